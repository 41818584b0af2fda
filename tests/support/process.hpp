// Runs the tlsbroker executable as a child process for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tlsbroker::test {

class process {
public:
    struct options {
        std::vector<std::string> args;
        std::filesystem::path output;        // stdout and stderr go here
        std::optional<unsigned> max_fds{};   // RLIMIT_NOFILE for the child (soft and hard)
        std::optional<unsigned> hard_fds{};  // with max_fds: a higher hard limit than the soft one
    };
    explicit process(options o);
    ~process();  // kills the child if it still runs
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    std::string output() const;
    // Waits until the output matches `pattern` (ECMAScript regex); returns the first
    // capture group (or the whole match), or nullopt at the deadline.
    std::optional<std::string> wait_for_output(const std::string& pattern, std::chrono::milliseconds timeout) const;
    void signal(int sig);
    // Waits for the exit; returns the exit code (128+signal when killed), nullopt at the deadline.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    pid_t pid() const { return pid_; }

private:
    options opts_;
    pid_t pid_ = -1;
    std::optional<int> code_;
};

// The executable started on a config written to dir/broker.json (log level info, so that the
// bound ports can be read from its output), with its ports once it has logged them (0 when
// it did not within 10 s).
struct broker_process {
    std::unique_ptr<process> proc;
    std::uint16_t port = 0;         // the first listener
    std::uint16_t status_port = 0;  // the status endpoint
};
broker_process start_broker_process(const std::filesystem::path& dir, nlohmann::json cfg,
                                    std::optional<unsigned> max_fds = {}, std::optional<unsigned> hard_fds = {});

// Runs the executable to completion (bounded) and returns {exit code, output}.
std::pair<int, std::string> run_to_completion(const std::vector<std::string>& args, const std::filesystem::path& dir);

}  // namespace tlsbroker::test
