// Fault injection for accept loops: an accept_operations that starts real accepts but can
// fail the next N completions with an error code, drop the next arm (the loop believes it
// re-armed, nothing is outstanding) or lose it (counted as outstanding, never issued).
#pragma once

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>

#include "core/accept/accept_loop.hpp"

namespace tlsbroker::test {

// An accept error of each class, as the platform being built for reports it.
#ifdef _WIN32
inline constexpr int accept_connection_error = 10053;  // WSAECONNABORTED
inline constexpr int accept_resource_error = 10055;    // WSAENOBUFS
inline constexpr int accept_listener_error = 10038;    // WSAENOTSOCK
#else
inline constexpr int accept_connection_error = ECONNABORTED;
inline constexpr int accept_resource_error = EMFILE;
inline constexpr int accept_listener_error = ENOTSOCK;
#endif

class accept_faults : public core::accept_operations, public std::enable_shared_from_this<accept_faults> {
public:
    // The next `n` accept completions that took a connection fail with `code` (an errno or
    // Winsock value) instead; their sockets are closed.
    void fail_next(int n, int code) {
        code_ = code;
        fail_next_ = n;
    }
    // The next arm starts nothing and reports so: no accept outstanding (once).
    void drop_next_arm() { drop_next_ = true; }
    // The next arm starts nothing but reports an accept started: a completion that never
    // arrives (once). Connections wait in the accept queue.
    void lose_next_arm() { lose_next_ = true; }

    int failures_left() const { return fail_next_.load(); }
    std::size_t arms() const { return arms_.load(); }

    bool start(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::any_io_executor& socket_executor,
               handler done) override;

private:
    std::atomic<int> fail_next_{0};
    std::atomic<int> code_{0};
    std::atomic<bool> drop_next_{false};
    std::atomic<bool> lose_next_{false};
    std::atomic<std::size_t> arms_{0};
};

// Waits (up to 5 s) for `applied` to be called; throws std::runtime_error when it is not.
void wait_applied(const std::function<void(std::function<void()>)>& install);

// Puts a fresh accept_faults into `target`'s accept loop (a listener, the status server or a
// bare accept_loop: anything with use_accept_operations) and returns once it is in place:
// its next arm uses it.
template <class Target>
std::shared_ptr<accept_faults> inject_accept_faults(Target& target) {
    auto faults = std::make_shared<accept_faults>();
    wait_applied([&](std::function<void()> applied) { target.use_accept_operations(faults, std::move(applied)); });
    return faults;
}

}  // namespace tlsbroker::test
