// systemd's notify protocol without libsystemd: each message is one datagram of
// "KEY=value" lines sent to the AF_UNIX socket that $NOTIFY_SOCKET names ("/path", or
// "@name" for a socket in the abstract namespace). Without $NOTIFY_SOCKET (not started by
// systemd, or Type= is not notify) every send is a no-op. The broker sends READY=1 once every
// listener is bound, RELOADING=1 / READY=1 around a SIGHUP reload, STOPPING=1 at drain and
// WATCHDOG=1 from its heartbeat (systemd_heartbeat.hpp).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/counters.hpp"

namespace tlsbroker::service {

struct notify_address {
    sockaddr_un addr{};
    socklen_t len = 0;
};

// The address for NOTIFY_SOCKET's text; nullopt with `error` set for an empty, relative,
// too long or non-AF_UNIX ("vsock:...") name.
std::optional<notify_address> parse_notify_socket(std::string_view text, std::string& error);

// The interval of $WATCHDOG_USEC when the watchdog is meant for this process: nullopt when
// `usec` is unset, not a positive number, or $WATCHDOG_PID names another process.
std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid, pid_t self);

// "RELOADING=1\nMONOTONIC_USEC=<now>": systemd 253 and later want the CLOCK_MONOTONIC time
// with RELOADING=1; older ones ignore it.
std::string reloading_message(std::chrono::steady_clock::time_point now);

// "STATUS=<text>" with line breaks replaced, so that `text` cannot add a field.
std::string status_field(std::string_view text);

class sd_notifier {
public:
    sd_notifier() = default;  // disabled: send() does nothing
    // Sends to `socket_text` (NOTIFY_SOCKET's format); disabled when it is empty, and
    // disabled with the reason logged when it cannot be used.
    explicit sd_notifier(std::string_view socket_text);
    ~sd_notifier();
    sd_notifier(const sd_notifier&) = delete;
    sd_notifier& operator=(const sd_notifier&) = delete;

    bool enabled() const { return fd_ >= 0; }
    // Thread-safe. True when the datagram was sent (or there is nowhere to send it); a
    // failure is counted and logged (rate-limited), and the broker carries on.
    bool send(std::string_view message);
    std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
    // From now on failures also count in `total` (service_notify_failures), the ones so far
    // included. `total` (the server's counters) must outlive every send.
    void count_in(core::counter_block& total);

private:
    int fd_ = -1;
    notify_address to_;
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<core::counter_block*> total_{nullptr};
};

}  // namespace tlsbroker::service
