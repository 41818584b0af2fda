// Runs a broker in-process on 127.0.0.1 port 0 with a generated certificate, for tests.
#pragma once

#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/common/counters.hpp"
#include "core/server/server.hpp"

namespace tlsbroker::test {

// A config with one listener on 127.0.0.1:0 in front of 127.0.0.1:backend_port, the status
// endpoint on 127.0.0.1:0, and certificates made in `dir`. Fast timeouts for tests.
nlohmann::json base_config(const std::filesystem::path& dir, std::uint16_t backend_port);

// Merges `patch` into `target` (objects recursively; null removes a key; anything else replaced).
void merge(nlohmann::json& target, const nlohmann::json& patch);

class broker_harness {
public:
    // `patch` is merged into base_config(); listener patches go under "listeners": [{...}].
    explicit broker_harness(std::uint16_t backend_port, const nlohmann::json& patch = nlohmann::json::object());
    ~broker_harness();
    broker_harness(const broker_harness&) = delete;
    broker_harness& operator=(const broker_harness&) = delete;

    std::uint16_t port(std::size_t listener = 0) const;
    std::uint16_t status_port() const;
    core::server& server() { return *server_; }
    std::uint64_t counter(core::counter c, std::size_t listener = 0) const;
    std::uint64_t total(core::counter c) const;
    // Requests a graceful stop and waits for run() to return; returns its exit code.
    int stop();
    // True once run() has returned by itself.
    bool finished() const;
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
    std::unique_ptr<core::server> server_;
    std::future<int> done_;
    bool stopped_ = false;
    int code_ = 0;
};

// GET http://127.0.0.1:port/path; returns the body and sets `status` (0 when unreachable).
std::string http_get(std::uint16_t port, const std::string& path, int& status);

}  // namespace tlsbroker::test
