#include "support/broker_harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "config/loader.hpp"
#include "core/common/log.hpp"
#include "support/test_certs.hpp"

namespace tlsbroker::test {

nlohmann::json base_config(const std::filesystem::path& dir, std::uint16_t backend_port) {
    const auto certs = make_self_signed(dir);
    return {
        {"threads", 2},
        {"log", {{"level", "warning"}}},
        {"status", {{"listen", "127.0.0.1:0"}}},
        {"watchdog", {{"enabled", false}}},
        {"listeners",
         {{{"name", "test"},
           {"listen", "127.0.0.1:0"},
           {"backlog", 1024},
           {"max_connections", 10000},
           {"tls", {{"certificate", certs.cert.string()}, {"private_key", certs.key.string()}}},
           {"backend", {{"address", "127.0.0.1:" + std::to_string(backend_port)}, {"connect_timeout_ms", 2000}}},
           {"timeouts", {{"handshake_ms", 5000}, {"write_stall_ms", 10000}, {"drain_ms", 5000}}}}}},
    };
}

void merge(nlohmann::json& target, const nlohmann::json& patch) {
    if (!patch.is_object() || !target.is_object()) {
        target = patch;
        return;
    }
    for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it.key() == "listeners" && it->is_array() && target.contains("listeners")) {
            auto& ls = target["listeners"];
            for (std::size_t i = 0; i < it->size(); ++i) {
                if (i < ls.size())
                    merge(ls[i], (*it)[i]);
                else
                    ls.push_back((*it)[i]);
            }
            continue;
        }
        if (it->is_null())
            target.erase(it.key());  // null removes a key
        else if (target.contains(it.key()))
            merge(target[it.key()], *it);
        else
            target[it.key()] = *it;
    }
}

broker_harness::broker_harness(std::uint16_t backend_port, const nlohmann::json& patch)
    : dir_(make_temp_dir("broker")) {
    auto cfg = base_config(dir_, backend_port);
    merge(cfg, patch);
    const auto loaded = config::load_text(cfg.dump(), dir_);
    if (!loaded.ok()) {
        std::string all;
        for (const auto& e : loaded.errors) all += e.to_string() + "\n";
        throw std::runtime_error("test config invalid:\n" + all);
    }
    // The console at the config's log level (warning unless a test patches it).
    auto level = log::level::warning;
    log::parse_level(loaded.config->log.level, level);
    log::init_console(level);
    server_ = std::make_unique<core::server>(loaded.config);
    server_->start();
    done_ = std::async(std::launch::async, [this] { return server_->run(); });
}

broker_harness::~broker_harness() { stop(); }

int broker_harness::stop() {
    if (stopped_) return code_;
    stopped_ = true;
    server_->request_stop();
    code_ = done_.get();
    return code_;
}

bool broker_harness::finished() const {
    return done_.valid() && done_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

std::uint16_t broker_harness::port(std::size_t listener) const {
    return server_->listener_endpoints().at(listener).port();
}

std::uint16_t broker_harness::status_port() const { return server_->status_endpoint().port(); }

std::uint64_t broker_harness::counter(core::counter c, std::size_t listener) const {
    return server_->listener_counters().at(listener).second->get(c);
}

std::uint64_t broker_harness::total(core::counter c) const { return server_->total_counters().get(c); }

std::string http_get(std::uint16_t port, const std::string& path, int& status) {
    status = 0;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return {};
    }
    const auto req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string resp;
    char buf[8192];
    for (;;) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        resp.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (resp.rfind("HTTP/1.1 ", 0) == 0) status = std::stoi(resp.substr(9, 3));
    const auto body = resp.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : resp.substr(body + 4);
}

}  // namespace tlsbroker::test
