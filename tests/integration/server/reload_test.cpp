// Reload under live traffic: no connection dropped, bytes exact, new certificates serve new
// handshakes, a bad config is rejected and the old one keeps running.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "config/loader.hpp"
#include "core/listener/listener.hpp"
#include "support/broker_harness.hpp"
#include "support/config_support.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

using test::load_config;

}  // namespace

TEST(reload, under_live_traffic_drops_nobody_and_new_certificates_serve_new_handshakes) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    const auto dir = test::make_temp_dir("reload");
    auto cfg = test::base_config(dir, backend.port());
    cfg["listeners"][0]["listen"] = "127.0.0.1:" + std::to_string(port);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"listen", cfg["listeners"][0]["listen"]}}}}});

    // Long-lived clients exchange data all through the reloads.
    std::atomic<bool> run{true};
    std::atomic<int> bad{0}, exchanges{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 6; ++t)
        clients.emplace_back([&, t] {
            test::tls_client c;
            c.set_timeout(10s);
            if (!c.open(port)) {
                ++bad;
                return;
            }
            for (int i = 0; run; ++i) {
                const auto msg = test::random_bytes(2000 + i % 5000, static_cast<std::uint32_t>(t * 100000 + i));
                std::string got;
                if (!c.write_all(msg) || !c.read_exact(msg.size(), got) || got != msg) {
                    ++bad;
                    return;
                }
                ++exchanges;
            }
        });
    // Meanwhile new clients keep connecting; none may be refused.
    std::atomic<int> refused{0}, fresh{0};
    std::thread newcomers([&] {
        while (run) {
            test::tls_client c;
            std::string got;
            if (c.open(port) && c.write_all("n") && c.read_exact(1, got))
                ++fresh;
            else
                ++refused;
        }
    });
    ASSERT_TRUE(test::wait_until([&] { return exchanges > 50; }, 10s));
    const auto renewed = test::make_self_signed(dir, "renewed", "renewed.example");
    for (int r = 0; r < 3; ++r) {
        auto next = cfg;
        next["listeners"][0]["backlog"] = 200 + r;  // a changed listener is re-created
        if (r == 2) {
            next["listeners"][0]["tls"]["certificate"] = renewed.cert.string();
            next["listeners"][0]["tls"]["private_key"] = renewed.key.string();
        }
        const auto res = broker.server().reload(load_config(next, dir));
        EXPECT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors.front());
        const auto before = exchanges.load();
        EXPECT_TRUE(test::wait_until([&] { return exchanges > before + 20; }, 10s));
    }
    run = false;
    for (auto& t : clients) t.join();
    newcomers.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(refused.load(), 0);
    EXPECT_GT(fresh.load(), 0);
    EXPECT_EQ(broker.total(core::counter::reloads_ok), 3u);
    test::tls_client c;
    ASSERT_TRUE(c.open(port));
    EXPECT_EQ(c.peer_common_name(), "renewed.example");
}

TEST(reload, connections_of_the_replaced_listener_still_count_against_max_connections) {
    test::echo_backend backend;
    const auto port = test::unused_port();
    const auto dir = test::make_temp_dir("reload-limit");
    auto cfg = test::base_config(dir, backend.port());
    cfg["listeners"][0]["listen"] = "127.0.0.1:" + std::to_string(port);
    cfg["listeners"][0]["max_connections"] = 2;
    test::broker_harness broker(backend.port(),
                                {{"listeners", {{{"listen", cfg["listeners"][0]["listen"]}, {"max_connections", 2}}}}});
    std::vector<std::unique_ptr<test::tls_client>> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(std::make_unique<test::tls_client>());
        std::string got;
        ASSERT_TRUE(held.back()->open(port) && held.back()->write_all("h") && held.back()->read_exact(1, got));
    }
    auto next = cfg;
    next["listeners"][0]["backlog"] = 300;  // a changed listener is re-created
    const auto res = broker.server().reload(load_config(next, dir));
    ASSERT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors.front());

    // The two clients of the replaced listener still hold both slots: a third waits.
    test::tls_client waiting;
    ASSERT_TRUE(waiting.connect(port));
    waiting.set_timeout(20s);
    std::string got;
    std::thread hs([&] { waiting.handshake() && waiting.write_all("3rd") && waiting.read_exact(3, got); });
    EXPECT_FALSE(test::wait_until([&] { return broker.counter(core::counter::connections_accepted) == 3; }, 500ms));
    EXPECT_EQ(broker.server().listener_at(0)->state(), core::listener_state::paused_at_limit);

    held.front()->close();  // an old connection ends: the new listener resumes
    hs.join();
    EXPECT_EQ(got, "3rd");
    EXPECT_EQ(broker.counter(core::counter::connections_accepted), 3u);
    std::string more;
    EXPECT_TRUE(held.back()->write_all("x") && held.back()->read_exact(1, more));  // the old one still relays
}

TEST(reload, bad_config_is_rejected_and_the_old_one_keeps_running) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("reload-bad");
    test::broker_harness broker(backend.port());
    test::write_file(dir / "bad.json", R"({"listeners": [{"listen": "nonsense", "backlog": -4}]})");
    const auto res = broker.server().reload(dir / "bad.json");
    EXPECT_FALSE(res.ok);
    EXPECT_GE(res.errors.size(), 2u);
    EXPECT_EQ(broker.total(core::counter::reloads_failed), 1u);
    int status = 0;
    const auto body = test::http_get(broker.status_port(), "/status", status);
    EXPECT_NE(body.find("\"ok\": false"), std::string::npos) << body;
    test::tls_client c;
    std::string got;
    ASSERT_TRUE(c.open(broker.port()) && c.write_all("still") && c.read_exact(5, got));
}

TEST(reload, post_reload_on_the_status_endpoint_applies_the_config_file) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("reload-post");
    auto cfg = test::base_config(dir, backend.port());
    cfg["status"]["reload_token_file"] = "reload.token";  // HTTP reload is off without one
    test::write_file(dir / "reload.token", "reload-token-0123456789\n");
    std::filesystem::permissions(dir / "reload.token", std::filesystem::perms::owner_read);
    test::write_file(dir / "broker.json", cfg.dump());
    const auto loaded = config::load_file(dir / "broker.json");
    ASSERT_TRUE(loaded.ok());
    core::server srv(loaded.config);
    srv.start();
    auto done = std::async(std::launch::async, [&] { return srv.run(); });
    cfg["listeners"][0]["max_connections"] = 77;
    test::write_file(dir / "broker.json", cfg.dump());
    // POST /reload
    test::tls_client raw;
    ASSERT_TRUE(raw.connect(srv.status_endpoint().port()));
    ASSERT_TRUE(
        raw.write_raw("POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer reload-token-0123456789\r\n"
                      "Content-Length: 0\r\nConnection: close\r\n\r\n"));
    EXPECT_TRUE(test::wait_until([&] { return srv.current_config()->listeners[0].max_connections == 77; }, 5s));
    EXPECT_EQ(srv.total_counters().get(core::counter::reloads_ok), 1u);
    srv.request_stop();
    EXPECT_EQ(done.get(), 0);
}

TEST(reload, added_listeners_start_and_removed_ones_stop_accepting_and_drain) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("reload-add-remove");
    const auto first_port = test::unused_port();
    auto cfg = test::base_config(dir, backend.port());
    cfg["listeners"][0]["listen"] = "127.0.0.1:" + std::to_string(first_port);
    test::broker_harness broker(backend.port(), {{"listeners", {{{"listen", cfg["listeners"][0]["listen"]}}}}});

    // A client that stays connected on the listener about to be removed.
    test::tls_client old_client;
    std::string got;
    ASSERT_TRUE(old_client.open(first_port) && old_client.write_all("a") && old_client.read_exact(1, got));

    const auto second_port = test::unused_port();
    auto next = cfg;
    next["listeners"][0]["name"] = "second";
    next["listeners"][0]["listen"] = "127.0.0.1:" + std::to_string(second_port);
    const auto res = broker.server().reload(load_config(next, dir));
    ASSERT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors.front());
    EXPECT_NE(res.summary.find("added second"), std::string::npos) << res.summary;
    EXPECT_NE(res.summary.find("removed test"), std::string::npos) << res.summary;

    got.clear();
    test::tls_client fresh;
    ASSERT_TRUE(fresh.open(second_port) && fresh.write_all("new") && fresh.read_exact(3, got)) << fresh.error();
    EXPECT_TRUE(test::wait_until(
        [&] {
            test::tls_client refused;
            return !refused.connect(first_port, "127.0.0.1", 1s);
        },
        5s));
    // The live connection on the removed listener keeps working while it drains.
    got.clear();
    ASSERT_TRUE(old_client.write_all("still here") && old_client.read_exact(10, got)) << old_client.error();
    EXPECT_EQ(got, "still here");
}
