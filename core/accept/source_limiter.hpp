// Per-source limits, so one noisy site cannot starve the others: at most N live
// connections per source, and a token-bucket rate of new connections per source.
//
// A source is an IPv4 address (an IPv4-mapped IPv6 address counts as its IPv4 address) or
// an IPv6 /64: one IPv6 host usually holds a whole /64 and picks a new address from it at
// will (privacy addresses), so counting per /128 would let it multiply its limits.
//
// The table is a hash map with a per-process random seed, so an accept costs O(1) whatever
// the number of sources, and one who chooses addresses cannot make them collide. Sources with
// no live connection wait in a list ordered by last use; once the table is large, each
// admit() forgets at most a few of the oldest whose bucket is full again (they hold nothing a
// fresh entry would not), so memory stays bounded under an address-spraying flood without a
// scan of the table.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <list>
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
    // On ok the connection is counted against the source of `a` until release(a).
    verdict admit(const boost::asio::ip::address& a, clock::time_point now);
    void release(const boost::asio::ip::address& a);
    std::size_t tracked() const;

    // Tests: idle entries looked at by pruning so far (the work an accept does besides one
    // hash lookup), and the longest hash bucket.
    std::uint64_t prune_steps() const;
    std::size_t longest_bucket() const;

    // The table starts forgetting idle sources above this many entries.
    static constexpr std::size_t prune_above = 65536;
    // At most this many idle entries are looked at per admit().
    static constexpr std::size_t prune_per_admit = 2;

    // What a source is counted under: 16 bytes, an IPv6 /64 with its host half zeroed, or an
    // IPv4 address in the IPv4-mapped form.
    struct key {
        std::uint64_t high = 0;
        std::uint64_t low = 0;
        bool operator==(const key&) const = default;
    };
    static key key_of(const boost::asio::ip::address& a);

private:
    struct hasher {
        std::size_t operator()(const key& k) const;
    };
    struct entry {
        std::uint32_t live = 0;
        double tokens = 0;
        clock::time_point refilled{};
        std::list<key>::iterator idle_at;  // valid while live == 0
    };
    using table = std::unordered_map<key, entry, hasher>;

    void prune(clock::time_point now);
    bool bucket_full(const entry& e, clock::time_point now) const;

    std::uint32_t max_;
    std::uint32_t rate_;
    std::uint32_t burst_;
    mutable std::mutex mutex_;
    table sources_;
    std::list<key> idle_;  // sources with no live connection, least recently used first
    std::uint64_t prune_steps_ = 0;
};

}  // namespace tlsbroker::core
