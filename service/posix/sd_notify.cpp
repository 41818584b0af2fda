#include "service/posix/sd_notify.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>

#include "core/common/log.hpp"

namespace tlsbroker::service {

namespace {

template <class T>
bool parse_number(const char* text, T& out) {
    if (text == nullptr || *text == '\0') return false;
    const auto* const end = text + std::strlen(text);
    const auto r = std::from_chars(text, end, out);
    return r.ec == std::errc() && r.ptr == end;
}

}  // namespace

std::optional<notify_address> parse_notify_socket(std::string_view text, std::string& error) {
    notify_address a;
    a.addr.sun_family = AF_UNIX;
    if (text.empty()) {
        error = "empty socket name";
        return std::nullopt;
    }
    if (text[0] != '/' && text[0] != '@') {
        error = "\"" + std::string(text) + "\" is neither an absolute path nor an abstract name (@...)";
        return std::nullopt;
    }
    // A path needs its terminating NUL inside sun_path; an abstract name does not have one.
    const bool abstract = text[0] == '@';
    if (text.size() > sizeof(a.addr.sun_path) - (abstract ? 0 : 1)) {
        error = "socket name is " + std::to_string(text.size()) + " bytes, longer than sockaddr_un allows";
        return std::nullopt;
    }
    std::memcpy(a.addr.sun_path, text.data(), text.size());
    if (abstract) a.addr.sun_path[0] = '\0';
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + (abstract ? 0 : 1));
    return a;
}

std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid, pid_t self) {
    std::uint64_t us = 0;
    if (!parse_number(usec, us) || us == 0) return std::nullopt;
    if (pid != nullptr && *pid != '\0') {
        long long owner = 0;
        if (!parse_number(pid, owner) || owner != static_cast<long long>(self)) return std::nullopt;
    }
    return std::chrono::microseconds(us);
}

std::string reloading_message(std::chrono::steady_clock::time_point now) {
    // steady_clock is CLOCK_MONOTONIC on Linux, the clock systemd compares against.
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(us);
}

std::string status_field(std::string_view text) {
    std::string out = "STATUS=";
    for (const char c : text) out += (c == '\n' || c == '\r') ? ' ' : c;
    return out;
}

sd_notifier::sd_notifier(std::string_view socket_text) {
    if (socket_text.empty()) return;
    std::string error;
    const auto to = parse_notify_socket(socket_text, error);
    if (!to) {
        TB_LOG_WARN("systemd: NOTIFY_SOCKET not used: ", error);
        return;
    }
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        TB_LOG_WARN("systemd: cannot open a socket for NOTIFY_SOCKET: ", std::strerror(errno));
        return;
    }
    fd_ = fd;
    to_ = *to;
}

sd_notifier::~sd_notifier() {
    if (fd_ >= 0) ::close(fd_);
}

bool sd_notifier::send(std::string_view message) {
    if (fd_ < 0) return true;
    ssize_t sent = 0;
    do {
        sent = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to_.addr),
                        to_.len);
    } while (sent < 0 && errno == EINTR);
    if (sent == static_cast<ssize_t>(message.size())) return true;
    failures_.fetch_add(1, std::memory_order_relaxed);
    if (auto* total = total_.load()) total->add(core::counter::service_notify_failures);
    const auto why = sent < 0 ? std::string(std::strerror(errno)) : "short write";
    const auto first = message.substr(0, message.find('\n'));
    log::limited(log::level::warning, "sd-notify",
                 log::str("systemd: notify message ", first, " not sent: ", why, " (", failures(), " so far)"));
    return false;
}

void sd_notifier::count_in(core::counter_block& total) {
    // A failure between these two lines is counted in both: one too many beats one lost.
    total_.store(&total);
    total.add(core::counter::service_notify_failures, failures());
}

}  // namespace tlsbroker::service
