// The status endpoint as a fleet uses it, on a whole broker: Prometheus scrapes it by DNS
// name (status.allowed_hosts) with the read token, a load balancer probes /healthz with
// neither, POST /reload takes only the reload token, and a reload applies a rotated token and
// a new allowed_hosts at once. A keep-alive connection left idle is closed and counted.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "config/loader.hpp"
#include "core/server/server.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/raw_socket.hpp"
#include "support/test_certs.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct reply {
    int status = 0;
    std::string body;
};

// One request on a fresh connection ("Connection: close"); status 0 when nothing came back.
reply http(std::uint16_t port, const std::string& method, const std::string& path, const std::string& host,
           const std::string& token = "") {
    reply r;
    const int fd = test::raw_connect(port);
    if (fd < 0) return r;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const auto req = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" +
                     (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "Content-Length: 0\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string resp;
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) resp.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    if (resp.rfind("HTTP/1.1 ", 0) == 0) r.status = std::stoi(resp.substr(9, 3));
    if (const auto at = resp.find("\r\n\r\n"); at != std::string::npos) r.body = resp.substr(at + 4);
    return r;
}

void write_secret(const fs::path& p, const std::string& text) {
    if (fs::exists(p)) fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
    test::write_file(p, text);
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

TEST(status_fleet_access, scrape_by_name_with_a_token_probe_without_and_reload_with_its_own) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("status-fleet");
    const std::string read1 = "read-token-one-0123456789", read2 = "read-token-two-0123456789";
    const std::string reload = "reload-token-0123456789";
    write_secret(dir / "read.token", read1 + "\n");
    write_secret(dir / "reload.token", reload + "\n");
    auto cfg = test::base_config(dir, backend.port());
    cfg["status"]["allowed_hosts"] = {"broker01"};
    cfg["status"]["token_file"] = "read.token";
    cfg["status"]["reload_token_file"] = "reload.token";
    test::write_file(dir / "broker.json", cfg.dump(2));
    const auto loaded = config::load_file(dir / "broker.json");
    ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
    core::server srv(loaded.config);
    srv.start();
    auto done = std::async(std::launch::async, [&] { return srv.run(); });
    const auto port = srv.status_endpoint().port();

    // Prometheus, by name, with the read token.
    auto r = http(port, "GET", "/metrics", "broker01:" + std::to_string(port), read1);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("tlsbroker_status_refused_total{reason=\"token\"} 0"), std::string::npos) << r.body;
    EXPECT_EQ(http(port, "GET", "/metrics", "broker01", "").status, 401);
    EXPECT_EQ(http(port, "GET", "/metrics", "broker02", read1).status, 421);
    // A load balancer: no token needed for /healthz.
    EXPECT_EQ(http(port, "GET", "/healthz", "broker01", "").status, 200);
    // Reload: only with the reload token.
    EXPECT_EQ(http(port, "POST", "/reload", "127.0.0.1", "").status, 401);
    EXPECT_EQ(http(port, "POST", "/reload", "127.0.0.1", read1).status, 401);
    EXPECT_EQ(srv.total_counters().get(core::counter::reloads_ok), 0u);
    EXPECT_EQ(srv.total_counters().get(core::counter::status_refused_token), 3u);

    // Rotate the read token and rename the host; a reload applies both to the next request.
    write_secret(dir / "read.token", read2 + "\n");
    cfg["status"]["allowed_hosts"] = {"broker02"};
    test::write_file(dir / "broker.json", cfg.dump(2));
    r = http(port, "POST", "/reload", "127.0.0.1", reload);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(srv.total_counters().get(core::counter::reloads_ok), 1u);
    EXPECT_EQ(http(port, "GET", "/status", "broker02", read1).status, 401);
    EXPECT_EQ(http(port, "GET", "/status", "broker01", read2).status, 421);
    EXPECT_EQ(http(port, "GET", "/status", "broker02", read2).status, 200);

    srv.request_stop();
    EXPECT_EQ(done.get(), 0);
}

TEST(status_fleet_access, without_a_reload_token_http_reload_is_off_and_sighup_style_reload_works) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("status-reload-off");
    auto cfg = test::base_config(dir, backend.port());
    test::write_file(dir / "broker.json", cfg.dump(2));
    const auto loaded = config::load_file(dir / "broker.json");
    ASSERT_TRUE(loaded.ok());
    core::server srv(loaded.config);
    srv.start();
    auto done = std::async(std::launch::async, [&] { return srv.run(); });
    const auto port = srv.status_endpoint().port();

    const auto r = http(port, "POST", "/reload", "127.0.0.1", "some-token-0123456789");
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("status.reload_token_file"), std::string::npos) << r.body;
    EXPECT_EQ(srv.total_counters().get(core::counter::status_refused_reload_off), 1u);
    EXPECT_EQ(srv.total_counters().get(core::counter::reloads_ok), 0u);
    // What SIGHUP and PARAMCHANGE call still reloads.
    EXPECT_TRUE(srv.reload().ok);
    EXPECT_EQ(srv.total_counters().get(core::counter::reloads_ok), 1u);

    srv.request_stop();
    EXPECT_EQ(done.get(), 0);
}

TEST(status_fleet_access, a_keep_alive_connection_left_idle_is_closed_and_counted) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"status", {{"idle_timeout_ms", 300}}}});
    const int fd = test::raw_connect(broker.status_port());
    ASSERT_GE(fd, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";  // keep-alive
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    std::string got;
    char buf[4096];
    // The reply, then the server's close once the connection has been idle for 300 ms.
    ssize_t n = 0;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    EXPECT_EQ(n, 0) << "closed by the server, not left open until the client's 5 s timeout";
    EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
    EXPECT_NE(got.find("ok\n"), std::string::npos) << got;
    EXPECT_TRUE(test::wait_until([&] { return broker.total(core::counter::status_idle_closed) == 1; }, 5s));
    int status = 0;
    const auto metrics = test::http_get(broker.status_port(), "/metrics", status);
    EXPECT_NE(metrics.find("tlsbroker_status_idle_closed_total 1"), std::string::npos) << metrics;
}
