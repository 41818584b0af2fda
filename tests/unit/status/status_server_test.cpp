#include "core/status/status_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/common/log.hpp"
#include "support/accept_faults.hpp"
#include "support/wait.hpp"

#if defined(__linux__)
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#endif

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using namespace tlsbroker;

namespace {

const std::string reload_token = "reload-0123456789abcdef";
const std::string read_token = "read-0123456789abcdef";

// Access rules for a test: by default POST /reload takes reload_token and reads are open.
core::status_access access_with(std::vector<std::string> hosts = {}, std::string read = "",
                                std::string reload = reload_token, std::chrono::milliseconds idle = 5000ms) {
    core::status_access a;
    a.allowed_hosts = std::move(hosts);
    if (!read.empty()) a.read_token.emplace(read);
    if (!reload.empty()) a.reload_token.emplace(reload);
    a.idle_timeout = idle;
    return a;
}

// The endpoint under test, with its own event loop on two threads.
struct running_server {
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    std::atomic<int> reloads{0};
    std::function<void()> on_reload;  // runs inside the reload handler (tests may block there)
    core::counter_block counters;     // refusals are counted here
    std::uint64_t count(core::counter c) const { return counters.get(c); }
    std::unique_ptr<core::status_server> server;
    std::vector<std::thread> threads;

    explicit running_server(bool with_reload = true, bool throwing_status = false,
                            core::status_access access = access_with()) {
        core::status_handlers h;
        h.healthz = [] { return core::http_reply{200, "text/plain; charset=utf-8", "ok\n"}; };
        h.status = [throwing_status]() -> core::http_reply {
            if (throwing_status) throw std::runtime_error("render failed");
            return {200, "application/json", R"({"healthy":true})"};
        };
        h.metrics = [] {
            return core::http_reply{200, "text/plain; version=0.0.4; charset=utf-8", "tlsbroker_healthy 1\n"};
        };
        if (with_reload)
            h.reload = [this] {
                if (on_reload) on_reload();
                ++reloads;
                return core::http_reply{200, "text/plain; charset=utf-8", "reloaded\n"};
            };
        h.counters = &counters;
        server = std::make_unique<core::status_server>(ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0),
                                                       std::move(h), std::move(access));
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { ioc.run(); });
    }
    ~running_server() {
        server->stop();
        work.reset();
        ioc.stop();
        for (auto& t : threads) t.join();
    }
    std::uint16_t port() const { return server->local_endpoint().port(); }
};

// A loopback HTTP client whose every operation has a deadline.
struct client {
    net::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;

    boost::system::error_code connect(std::uint16_t port) {
        boost::system::error_code ec;
        stream.socket().connect(tcp::endpoint(net::ip::address_v4::loopback(), port), ec);
        return ec;
    }

    boost::system::error_code send(const std::string& raw) {
        boost::system::error_code ec = net::error::timed_out;
        stream.expires_after(5s);
        net::async_write(stream, net::buffer(raw), [&](boost::system::error_code e, std::size_t) { ec = e; });
        ioc.restart();
        ioc.run();
        return ec;
    }

    http::response<http::string_body> read(boost::system::error_code& ec) {
        http::response<http::string_body> res;
        ec = net::error::timed_out;
        stream.expires_after(5s);
        http::async_read(stream, buffer, res, [&](boost::system::error_code e, std::size_t) { ec = e; });
        ioc.restart();
        ioc.run();
        return res;
    }

    http::response<http::string_body> request(const std::string& raw) {
        EXPECT_FALSE(send(raw));
        boost::system::error_code ec;
        auto res = read(ec);
        EXPECT_FALSE(ec) << ec.message();
        return res;
    }
};

std::string get(const std::string& target, bool close = true) {
    return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
}

// A request with "Authorization: Bearer <token>" (none when `token` is empty).
std::string get_with(const std::string& target, const std::string& token, const std::string& host = "localhost") {
    return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" +
           (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n";
}

std::string post(const std::string& target, const std::string& body = "", const std::string& token = reload_token) {
    return "POST " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
           (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

http::response<http::string_body> once(std::uint16_t port, const std::string& raw) {
    client c;
    EXPECT_FALSE(c.connect(port));
    return c.request(raw);
}

// True once the peer has closed the connection (a read ends with EOF or a reset).
bool peer_closed(client& c) {
    boost::system::error_code ec;
    c.read(ec);
    return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset;
}

}  // namespace

TEST(status_server, serves_each_route_with_its_content_type) {
    running_server s;
    ASSERT_NE(s.port(), 0);

    auto res = once(s.port(), get("/healthz"));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "ok\n");

    res = once(s.port(), get("/status?pretty=1"));  // the query string is ignored
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_EQ(res.body(), R"({"healthy":true})");

    res = once(s.port(), get("/metrics"));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(res.body(), "tlsbroker_healthy 1\n");

    res = once(s.port(), post("/reload"));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(s.reloads.load(), 1);
}

TEST(status_server, unknown_paths_are_404_and_wrong_methods_405) {
    running_server s;
    EXPECT_EQ(once(s.port(), get("/")).result_int(), 404u);
    EXPECT_EQ(once(s.port(), get("/statusx")).result_int(), 404u);

    auto res = once(s.port(), post("/status", "{}"));
    EXPECT_EQ(res.result_int(), 405u);
    EXPECT_EQ(res[http::field::allow], "GET");

    res = once(s.port(), get("/reload"));
    EXPECT_EQ(res.result_int(), 405u);
    EXPECT_EQ(res[http::field::allow], "POST");
    EXPECT_EQ(s.reloads.load(), 0);

    res = once(s.port(), "DELETE /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(res.result_int(), 405u);
}

TEST(status_server, reload_without_a_handler_is_404) {
    running_server s(false);
    EXPECT_EQ(once(s.port(), post("/reload")).result_int(), 404u);
    EXPECT_EQ(once(s.port(), get("/healthz")).result_int(), 200u);
}

TEST(status_server, keeps_the_connection_alive_between_requests) {
    running_server s;
    client c;
    ASSERT_FALSE(c.connect(s.port()));
    for (int i = 0; i < 3; ++i) {
        const auto res = c.request(get("/healthz", false));
        EXPECT_EQ(res.result_int(), 200u);
        EXPECT_TRUE(res.keep_alive());
    }
    const auto last = c.request(get("/metrics", true));
    EXPECT_EQ(last.result_int(), 200u);
    EXPECT_FALSE(last.keep_alive());
    EXPECT_TRUE(peer_closed(c));
}

TEST(status_server, request_body_over_8k_is_refused_with_413) {
    running_server s;
    client c;
    ASSERT_FALSE(c.connect(s.port()));
    const auto res = c.request(post("/reload", std::string(10000, 'x')));
    EXPECT_EQ(res.result_int(), 413u);
    EXPECT_EQ(s.reloads.load(), 0);
    EXPECT_TRUE(peer_closed(c));

    // A body just under the limit is fine.
    EXPECT_EQ(once(s.port(), post("/reload", std::string(8000, 'x'))).result_int(), 200u);
}

TEST(status_server, oversized_header_is_431_and_garbage_is_400) {
    running_server s;
    const auto big = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
    EXPECT_EQ(once(s.port(), big).result_int(), 431u);
    EXPECT_EQ(once(s.port(), "NOT HTTP AT ALL\r\n\r\n").result_int(), 400u);
    EXPECT_EQ(once(s.port(), get("/healthz")).result_int(), 200u);
}

TEST(status_server, a_throwing_handler_gives_500_and_the_server_goes_on) {
    log::set_rate_limit(0ms);
    log::capture cap;
    running_server s(true, true);
    EXPECT_EQ(once(s.port(), get("/status")).result_int(), 500u);
    EXPECT_TRUE(cap.contains("render failed"));
    EXPECT_EQ(once(s.port(), get("/healthz")).result_int(), 200u);
    log::set_rate_limit(10000ms);
}

TEST(status_server, stop_closes_the_acceptor_and_live_connections) {
    running_server s;
    const auto port = s.port();
    client idle;
    ASSERT_FALSE(idle.connect(port));
    EXPECT_EQ(idle.request(get("/healthz", false)).result_int(), 200u);  // now idle, kept alive

    s.server->stop();
    EXPECT_TRUE(peer_closed(idle));
    EXPECT_TRUE(test::wait_until(
        [&] {
            client c;
            return static_cast<bool>(c.connect(port));
        },
        5s));
    s.server->stop();  // a second stop is harmless
}

#if defined(__linux__)
// The product's reason to exist: running out of descriptors must not end the accept loop.
TEST(status_server, accept_loop_survives_running_out_of_descriptors) {
    log::set_rate_limit(0ms);
    log::capture cap;
    running_server s;
    const auto port = s.port();

    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    std::size_t open_now = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++open_now;
    rlimit low = saved;
    low.rlim_cur = open_now + 16;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);

    // The client's event loop and socket exist first; then every descriptor is used up, so
    // the server has none left to accept the connection with. (Freeing one for the client
    // after the fill raced with the server: an accept() that finds no connection still holds
    // a descriptor for a moment, and could take the freed one from under the client.)
    client c;
    c.stream.socket().open(tcp::v4());
    std::vector<int> fillers;
    for (int fd; (fd = ::open("/dev/null", O_RDONLY)) >= 0;) fillers.push_back(fd);
    ASSERT_FALSE(fillers.empty());
    const auto connect_ec = c.connect(port);

    const bool saw_error = test::wait_until([&] { return cap.contains("status endpoint accept"); }, 5s);
    for (const int fd : fillers) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    log::set_rate_limit(10000ms);

    ASSERT_FALSE(connect_ec) << connect_ec.message();
    EXPECT_TRUE(saw_error);
    EXPECT_TRUE(cap.contains("backing off"));
    EXPECT_GE(s.count(core::counter::status_accept_errors_resource), 1u);
    // Descriptors are back: the queued connection is accepted and served.
    EXPECT_EQ(c.request(get("/healthz")).result_int(), 200u);
    EXPECT_EQ(once(port, get("/healthz")).result_int(), 200u);
}
#endif

TEST(status_server, accept_errors_are_counted_by_class_and_it_serves_on) {
    running_server s;
    const auto port = s.port();
    auto faults = test::inject_accept_faults(*s.server);
    // The accept armed before the faults went in is a real one: let a request take it.
    ASSERT_EQ(once(port, get("/healthz")).result_int(), 200u);
    const struct {
        int code;
        core::counter counted;
    } cases[] = {{test::accept_connection_error, core::counter::status_accept_errors_connection},
                 {test::accept_resource_error, core::counter::status_accept_errors_resource},
                 {test::accept_listener_error, core::counter::status_accept_errors_listener}};
    for (const auto& c : cases) {
        faults->fail_next(1, c.code);
        client victim;  // its connection is taken by the failing accept and closed
        ASSERT_FALSE(victim.connect(port));
        ASSERT_TRUE(test::wait_until([&] { return s.count(c.counted) == 1; }, 5s)) << c.code;
        ASSERT_TRUE(test::wait_until([&] { return faults->failures_left() == 0; }, 5s));
    }
    EXPECT_EQ(s.count(core::counter::status_accept_errors_connection), 1u);
    EXPECT_EQ(s.count(core::counter::status_accept_errors_resource), 1u);
    EXPECT_EQ(s.count(core::counter::status_accept_errors_listener), 1u);
    // Backed off and re-created on the same port: it still serves.
    EXPECT_EQ(s.server->local_endpoint().port(), port);
    EXPECT_TRUE(test::wait_until([&] { return once(port, get("/healthz")).result_int() == 200; }, 5s));
}

TEST(status_server, a_request_from_a_web_page_is_refused) {
    running_server s;
    // What a page's fetch() sends: an Origin header, and a "simple" content type.
    auto res = once(s.port(),
                    "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n"
                    "Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    EXPECT_EQ(res.result_int(), 403u);
    res = once(s.port(), "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: null\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(res.result_int(), 403u);
    EXPECT_EQ(s.reloads.load(), 0);
    EXPECT_EQ(s.count(core::counter::status_refused_origin), 2u);
    EXPECT_EQ(s.count(core::counter::status_refused_host), 0u);
}

TEST(status_server, a_host_that_is_a_name_other_than_localhost_is_421) {
    running_server s;
    const auto with_host = [&](const std::string& host) {
        return once(s.port(), "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").result_int();
    };
    EXPECT_EQ(with_host("rebind.evil.example:9100"), 421u);  // a name made to resolve to 127.0.0.1
    EXPECT_EQ(with_host("127.0.0.1:" + std::to_string(s.port())), 200u);
    EXPECT_EQ(with_host("[::1]:9100"), 200u);
    EXPECT_EQ(with_host("LocalHost:9100"), 200u);
    EXPECT_EQ(once(s.port(), "GET /healthz HTTP/1.0\r\n\r\n").result_int(), 200u);  // no Host at all
    EXPECT_EQ(s.count(core::counter::status_refused_host), 1u);
    EXPECT_EQ(s.count(core::counter::status_refused_origin), 0u);
}

TEST(status_server, reloads_run_one_at_a_time_off_the_io_threads_and_at_most_once_a_second) {
    running_server s;
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    std::thread::id ran_on;
    s.on_reload = [&] {
        std::unique_lock lock(m);
        ran_on = std::this_thread::get_id();
        cv.wait_for(lock, 10s, [&] { return release; });
    };
    client first;
    ASSERT_FALSE(first.connect(s.port()));
    ASSERT_FALSE(first.send(post("/reload")));
    ASSERT_TRUE(tlsbroker::test::wait_until(
        [&] {
            std::lock_guard l(m);
            return ran_on != std::thread::id{};
        },
        5s));
    // While it runs, the endpoint still answers, and a second reload is refused.
    EXPECT_EQ(once(s.port(), get("/healthz")).result_int(), 200u) << "the reload blocked an I/O thread";
    auto busy = once(s.port(), post("/reload"));
    EXPECT_EQ(busy.result_int(), 429u);
    EXPECT_EQ(busy[http::field::retry_after], "1");
    for (const auto& t : s.threads) EXPECT_NE(ran_on, t.get_id()) << "the reload ran on an I/O thread";
    {
        std::lock_guard l(m);
        release = true;
    }
    cv.notify_all();
    boost::system::error_code ec;
    EXPECT_EQ(first.read(ec).result_int(), 200u);
    EXPECT_EQ(once(s.port(), post("/reload")).result_int(), 429u) << "within a second of the last one";
    EXPECT_EQ(s.count(core::counter::status_refused_reload), 2u);  // busy, then too soon
    EXPECT_TRUE(tlsbroker::test::wait_until([&] { return once(s.port(), post("/reload")).result_int() == 200u; }, 5s));
    EXPECT_EQ(s.reloads.load(), 2);
}

TEST(status_server, one_source_cannot_take_every_status_connection) {
    running_server s;
    std::vector<std::unique_ptr<client>> held;
    for (int i = 0; i < 8; ++i) {
        held.push_back(std::make_unique<client>());
        ASSERT_FALSE(held.back()->connect(s.port()));
        EXPECT_EQ(held.back()->request(get("/healthz", false)).result_int(), 200u);  // registered and kept open
    }
    client ninth;
    ASSERT_FALSE(ninth.connect(s.port()));
    EXPECT_TRUE(ninth.send(get("/healthz")) || peer_closed(ninth)) << "a ninth loopback connection was served";
    EXPECT_TRUE(tlsbroker::test::wait_until([&] { return s.count(core::counter::status_refused_source) == 1; }, 5s));
    held.pop_back();
    EXPECT_TRUE(tlsbroker::test::wait_until(
        [&] {
            client c;
            return !c.connect(s.port()) && !c.send(get("/healthz")) && [&] {
                boost::system::error_code ec;
                return c.read(ec).result_int() == 200u && !ec;
            }();
        },
        5s));
}

TEST(status_server, a_host_listed_in_allowed_hosts_is_served_and_others_are_421) {
    running_server s(true, false, access_with({"broker01", "metrics.example:8417"}));
    const auto with_host = [&](const std::string& host) {
        return once(s.port(), get_with("/healthz", "", host)).result_int();
    };
    EXPECT_EQ(with_host("broker01"), 200u);
    EXPECT_EQ(with_host("broker01:9100"), 200u);  // a name listed without a port: any port
    EXPECT_EQ(with_host("BROKER01:8417"), 200u);  // names compare case-insensitively
    EXPECT_EQ(with_host("metrics.example:8417"), 200u);
    EXPECT_EQ(s.count(core::counter::status_refused_host), 0u);
    EXPECT_EQ(with_host("metrics.example:8418"), 421u);  // listed with a port: that port only
    EXPECT_EQ(with_host("broker02"), 421u);
    EXPECT_EQ(with_host("broker01.evil.example"), 421u);
    EXPECT_EQ(with_host("127.0.0.1"), 200u);  // IP literals and localhost still pass
    EXPECT_EQ(s.count(core::counter::status_refused_host), 3u);
}

TEST(status_server, reads_need_the_read_token_when_one_is_set_and_healthz_never_does) {
    running_server s(true, false, access_with({}, read_token));
    auto res = once(s.port(), get_with("/status", ""));
    EXPECT_EQ(res.result_int(), 401u);
    EXPECT_EQ(res[http::field::www_authenticate], "Bearer realm=\"tlsbroker status\"");
    EXPECT_NE(res.body().find("status.token_file"), std::string::npos) << res.body();
    EXPECT_EQ(once(s.port(), get_with("/metrics", "")).result_int(), 401u);
    EXPECT_EQ(once(s.port(), get_with("/status", read_token + "x")).result_int(), 401u);
    EXPECT_EQ(once(s.port(), get_with("/status", reload_token)).result_int(), 401u)
        << "the reload token is not a read token";
    EXPECT_EQ(once(s.port(), get_with("/status", read_token.substr(1))).result_int(), 401u);
    EXPECT_EQ(s.count(core::counter::status_refused_token), 5u);

    res = once(s.port(), get_with("/status", read_token));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), R"({"healthy":true})");
    EXPECT_EQ(once(s.port(), get_with("/metrics", read_token)).result_int(), 200u);
    // The scheme is case-insensitive.
    EXPECT_EQ(once(s.port(), "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: bearer " + read_token +
                                 "\r\nConnection: close\r\n\r\n")
                  .result_int(),
              200u);
    EXPECT_EQ(once(s.port(), get_with("/healthz", "")).result_int(), 200u) << "load balancers probe without a token";
    EXPECT_EQ(s.count(core::counter::status_refused_token), 5u);
}

TEST(status_server, a_reload_needs_the_reload_token) {
    running_server s(true, false, access_with({}, read_token));
    auto res = once(s.port(), post("/reload", "", ""));
    EXPECT_EQ(res.result_int(), 401u);
    EXPECT_EQ(res[http::field::www_authenticate], "Bearer realm=\"tlsbroker status\"");
    EXPECT_EQ(once(s.port(), post("/reload", "", read_token)).result_int(), 401u) << "a read token cannot reload";
    EXPECT_EQ(s.reloads.load(), 0);
    EXPECT_EQ(s.count(core::counter::status_refused_token), 2u);
    EXPECT_EQ(once(s.port(), post("/reload", "", reload_token)).result_int(), 200u);
    EXPECT_EQ(s.reloads.load(), 1);
}

TEST(status_server, without_a_reload_token_http_reload_is_off) {
    running_server s(true, false, access_with({}, "", ""));
    const auto res = once(s.port(), post("/reload", "", "anything-at-all-0123"));
    EXPECT_EQ(res.result_int(), 403u);
    EXPECT_NE(res.body().find("status.reload_token_file"), std::string::npos) << res.body();
    EXPECT_NE(res.body().find("SIGHUP"), std::string::npos) << res.body();
    EXPECT_EQ(once(s.port(), post("/reload", "", "")).result_int(), 403u);
    EXPECT_EQ(s.reloads.load(), 0);
    EXPECT_EQ(s.count(core::counter::status_refused_reload_off), 2u);
    EXPECT_EQ(s.count(core::counter::status_refused_token), 0u);
    EXPECT_EQ(once(s.port(), get("/status")).result_int(), 200u);  // reads are open without a read token
}

TEST(status_server, new_access_rules_apply_to_the_next_request) {
    running_server s(true, false, access_with({}, "", ""));
    EXPECT_EQ(once(s.port(), get("/status")).result_int(), 200u);
    EXPECT_EQ(once(s.port(), get_with("/healthz", "", "broker01")).result_int(), 421u);
    s.server->configure(access_with({"broker01"}, read_token, reload_token));
    EXPECT_EQ(once(s.port(), get("/status")).result_int(), 401u);
    EXPECT_EQ(once(s.port(), get_with("/status", read_token, "broker01")).result_int(), 200u);
    EXPECT_EQ(once(s.port(), post("/reload")).result_int(), 200u);
}

TEST(status_server, a_connection_idle_past_the_idle_timeout_is_closed_and_counted) {
    running_server s(true, false, access_with({}, "", reload_token, 2000ms));
    // Each request restarts the idle time: three requests 700 ms apart outlive one timeout.
    client kept;
    ASSERT_FALSE(kept.connect(s.port()));
    for (int i = 0; i < 3; ++i) {
        if (i != 0) std::this_thread::sleep_for(700ms);  // the idle gap under test, not a wait for an outcome
        EXPECT_EQ(kept.request(get("/healthz", false)).result_int(), 200u) << i;
    }
    EXPECT_EQ(s.count(core::counter::status_idle_closed), 0u);
    // Now idle: closed by the server (the client's read would wait 5 s), and counted.
    EXPECT_TRUE(peer_closed(kept));
    EXPECT_TRUE(test::wait_until([&] { return s.count(core::counter::status_idle_closed) == 1; }, 5s));
    // A connection that never sends a request is closed the same way.
    client silent;
    ASSERT_FALSE(silent.connect(s.port()));
    EXPECT_TRUE(peer_closed(silent));
    EXPECT_TRUE(test::wait_until([&] { return s.count(core::counter::status_idle_closed) == 2; }, 5s));
}
