#include "support/notify_recorder.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace tlsbroker::test {

notify_recorder::notify_recorder(const std::filesystem::path& dir, bool abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw std::runtime_error("notify_recorder: socket failed");
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    socklen_t len = 0;
    if (abstract) {
        address_ = "@tlsbroker-test-" + std::to_string(::getpid()) + "-" + dir.filename().string();
        address_.resize(std::min(address_.size(), sizeof(a.sun_path)));
        std::memcpy(a.sun_path, address_.data(), address_.size());
        a.sun_path[0] = '\0';
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    } else {
        path_ = dir / "notify.sock";
        address_ = path_.string();
        if (address_.size() >= sizeof(a.sun_path)) throw std::runtime_error("notify_recorder: path too long");
        std::memcpy(a.sun_path, address_.c_str(), address_.size() + 1);
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() + 1);
    }
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), len) != 0) {
        ::close(fd_);
        throw std::runtime_error("notify_recorder: bind to " + address_ + " failed");
    }
}

notify_recorder::~notify_recorder() {
    ::close(fd_);
    if (!path_.empty()) {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
}

std::vector<std::string> notify_recorder::messages() {
    char buf[4096];
    for (;;) {
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) break;
        messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
}

std::size_t notify_recorder::count(std::string_view line) {
    std::size_t n = 0;
    for (const auto& m : messages())
        if (has_line(m, line)) ++n;
    return n;
}

std::size_t notify_recorder::find(std::string_view line, std::size_t from) {
    const auto all = messages();
    for (std::size_t i = from; i < all.size(); ++i)
        if (has_line(all[i], line)) return i;
    return std::string::npos;
}

bool has_line(std::string_view message, std::string_view line) {
    std::size_t start = 0;
    while (start <= message.size()) {
        const auto end = std::min(message.find('\n', start), message.size());
        if (message.substr(start, end - start) == line) return true;
        start = end + 1;
    }
    return false;
}

scoped_env::scoped_env(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }

scoped_env::~scoped_env() { ::unsetenv(name_.c_str()); }

}  // namespace tlsbroker::test
