// Admission policy for one endpoint, kept across reloads: the connection-slot count against
// max_connections, the per-source limiter and the routing of the watchdog's canary probes.
// The listeners that serve the endpoint one after another share it, so a connection
// accepted by a replaced listener still counts against its successor's limits (the
// per-source ones included). A connection holds an RAII connection_slot; the slot is given
// back when it is destroyed, on every path (exceptions included).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "config/config.hpp"
#include "core/accept/source_limiter.hpp"
#include "core/common/counters.hpp"

namespace tlsbroker::core {

class endpoint_admission;

// One admitted connection: a slot against max_connections and, when per-source limits are
// on, an entry against its source address. Move-only; released by its destructor or by
// release() (idempotent, never throws).
class connection_slot {
public:
    connection_slot() = default;
    ~connection_slot() { release(); }
    connection_slot(connection_slot&& o) noexcept;
    connection_slot& operator=(connection_slot&& o) noexcept;
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;

    explicit operator bool() const { return admission_ != nullptr; }
    // A slot taken with endpoint_admission::reserve() is counted against `source` now (its
    // per-source limit and rate). On a refusal the slot stays as it was (no source).
    enum class source_verdict { admitted, too_many, too_fast };
    source_verdict name_source(const boost::asio::ip::address& source);
    // Counts the connection in `c`'s connections_active gauge until the slot is released.
    void track(counters c);
    void release() noexcept;

private:
    friend class endpoint_admission;
    connection_slot(std::shared_ptr<endpoint_admission> a, boost::asio::ip::address source, bool per_source)
        : admission_(std::move(a)), source_(std::move(source)), per_source_(per_source) {}

    std::shared_ptr<endpoint_admission> admission_;
    boost::asio::ip::address source_;
    bool per_source_ = false;
    std::optional<counters> gauge_;
};

class endpoint_admission : public std::enable_shared_from_this<endpoint_admission> {
public:
    struct limits {
        std::size_t max_connections = 0;
        config::source_limits_config per_source;
    };
    static limits limits_of(const config::listener_config& c) { return {c.max_connections, c.source_limits}; }

    explicit endpoint_admission(const limits& l);

    // A reload: new limits apply to new connections; live slots and per-source counts stay.
    void configure(const limits& l);

    enum class verdict { admitted, too_many_from_source, too_fast_from_source };
    struct admission {
        verdict outcome = verdict::admitted;
        connection_slot slot;  // set when admitted
    };
    // Takes a slot for a connection from `source` (any thread). The connection limit is
    // enforced before an accept is armed (at_limit()), so this refuses only by source.
    admission admit(const boost::asio::ip::address& source);
    // A slot against max_connections only, for a connection whose real source is learnt
    // later (a PROXY header); connection_slot::name_source() applies the per-source limits.
    connection_slot reserve();

    std::size_t active() const { return active_.load(); }
    std::size_t max_connections() const { return max_.load(); }
    bool at_limit() const { return active() >= max_connections(); }
    std::size_t tracked_sources() const { return limiter_.tracked(); }

    // Runs (any thread) after a slot was given back; the listener accepting for the endpoint
    // now sets it, replacing its predecessor's.
    void on_slot_freed(std::function<void()> cb);

    // Connections from `from` are the watchdog's canaries: closed at once, never counted as
    // clients; `on_taken` runs when one is accepted. Entries older than a minute are dropped.
    void add_probe(const boost::asio::ip::tcp::endpoint& from, std::function<void()> on_taken);
    void remove_probe(const boost::asio::ip::tcp::endpoint& from);
    // True when `remote` is a registered canary (it is then forgotten and its callback run).
    bool take_probe(const boost::asio::ip::tcp::endpoint& remote);

private:
    friend class connection_slot;
    void release(const boost::asio::ip::address& source, bool per_source) noexcept;

    std::atomic<std::size_t> active_{0};
    std::atomic<std::size_t> max_{0};
    source_limiter limiter_;

    mutable std::mutex wake_mutex_;
    std::function<void()> wake_;

    struct probe_entry {
        boost::asio::ip::tcp::endpoint from;
        std::function<void()> on_taken;
        std::chrono::steady_clock::time_point added;
    };
    mutable std::mutex probes_mutex_;
    std::vector<probe_entry> probes_;
};

}  // namespace tlsbroker::core
