// A fake $NOTIFY_SOCKET for tests: a datagram socket that records what the broker tells
// systemd (service/posix/sd_notify.hpp), one message per datagram, in arrival order.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tlsbroker::test {

class notify_recorder {
public:
    // Bound at dir/notify.sock, or in the abstract namespace ("@...") when `abstract`.
    explicit notify_recorder(const std::filesystem::path& dir, bool abstract = false);
    ~notify_recorder();
    notify_recorder(const notify_recorder&) = delete;
    notify_recorder& operator=(const notify_recorder&) = delete;

    // The text for NOTIFY_SOCKET.
    const std::string& address() const { return address_; }
    // Every message received so far (reads what is waiting, never blocks).
    std::vector<std::string> messages();
    // Messages so far that contain the line `line` (e.g. "READY=1").
    std::size_t count(std::string_view line);
    // The index of the first message at or after `from` that has the line `line`, or npos.
    std::size_t find(std::string_view line, std::size_t from = 0);

private:
    int fd_ = -1;
    std::string address_;
    std::filesystem::path path_;
    std::vector<std::string> messages_;
};

// True when `message` has `line` as one of its "\n"-separated lines.
bool has_line(std::string_view message, std::string_view line);

// Sets an environment variable for the scope (the broker processes a test starts inherit it).
class scoped_env {
public:
    scoped_env(const char* name, const std::string& value);
    ~scoped_env();
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    std::string name_;
};

}  // namespace tlsbroker::test
