// Many concurrent clients send random payloads (up to MBs) and get every byte back, in
// order, through the broker and an echo backend.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(relay, random_payloads_round_trip_byte_exact_with_many_clients) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());

    constexpr int clients = 32;
    std::atomic<int> ok{0};
    std::vector<std::string> errors(clients);
    std::vector<std::thread> threads;
    std::atomic<std::uint64_t> sent{0};
    for (int i = 0; i < clients; ++i) {
        threads.emplace_back([&, i] {
            // Sizes from a few bytes to 3 MB.
            const std::size_t size = i % 8 == 0 ? 3u * 1024 * 1024 : static_cast<std::size_t>(1 + i * 37919);
            const auto payload = test::random_bytes(size, static_cast<std::uint32_t>(1000 + i));
            test::tls_client c;
            c.set_timeout(30s);
            if (!c.open(broker.port())) {
                errors[i] = c.error();
                return;
            }
            // Write and read at once so neither direction's buffers have to hold it all.
            std::string got;
            const bool moved = c.transfer(payload, got, size);
            if (!moved || got != payload) {
                errors[i] = "client " + std::to_string(i) + ": mismatch or error: " + c.error();
                return;
            }
            sent += size;
            ++ok;
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_TRUE(e.empty()) << e;
    EXPECT_EQ(ok.load(), clients);
    EXPECT_TRUE(
        test::wait_until([&] { return broker.counter(core::counter::bytes_backend_to_client) == sent.load(); }, 5s));
    EXPECT_EQ(broker.counter(core::counter::bytes_client_to_backend), sent.load());
    EXPECT_EQ(broker.counter(core::counter::handshakes_ok), static_cast<std::uint64_t>(clients));
    EXPECT_EQ(broker.counter(core::counter::connections_accepted), static_cast<std::uint64_t>(clients));
}

TEST(relay, idle_sessions_hold_no_relay_buffers) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    std::vector<std::unique_ptr<test::tls_client>> cs;
    for (int i = 0; i < 20; ++i) {
        auto c = std::make_unique<test::tls_client>();
        ASSERT_TRUE(c->open(broker.port())) << c->error();
        std::string got;
        ASSERT_TRUE(c->write_all("ping") && c->read_exact(4, got));
        cs.push_back(std::move(c));
    }
    int status = 0;
    // After the round trips every session is idle: no buffer may be in use.
    EXPECT_TRUE(test::wait_until(
        [&] {
            const auto body = test::http_get(broker.status_port(), "/status", status);
            const auto j = nlohmann::json::parse(body, nullptr, false);
            return status == 200 && j.is_object() && j["relay_buffers"]["in_use"] == 0;
        },
        5s));
    EXPECT_EQ(broker.counter(core::counter::connections_active), 20u);
}
