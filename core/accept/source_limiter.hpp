// Per-source limits, so one noisy site cannot starve the others: at most N live
// connections per client address, and a token-bucket rate of new connections per address.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace tlsbroker::core {

class source_limiter {
public:
    using clock = std::chrono::steady_clock;
    enum class verdict { ok, too_many, too_fast };

    // 0 turns the respective limit off.
    source_limiter(std::uint32_t max_per_source, std::uint32_t rate_per_second, std::uint32_t burst);

    bool enabled() const;
    // New limits (a reload); live counts and buckets are kept.
    void set_limits(std::uint32_t max_per_source, std::uint32_t rate_per_second, std::uint32_t burst);
    // On ok the connection is counted against `a` until release(a).
    verdict admit(const boost::asio::ip::address& a, clock::time_point now);
    void release(const boost::asio::ip::address& a);
    std::size_t tracked() const;

private:
    struct entry {
        std::uint32_t live = 0;
        double tokens = 0;
        clock::time_point refilled{};
    };
    struct hasher {
        std::size_t operator()(const boost::asio::ip::address& a) const;
    };
    void prune(clock::time_point now);

    std::uint32_t max_;
    std::uint32_t rate_;
    std::uint32_t burst_;
    mutable std::mutex mutex_;
    std::unordered_map<boost::asio::ip::address, entry, hasher> sources_;
};

}  // namespace tlsbroker::core
