// A storm of connections reset right after connect (the IOCP library's fatal case) mixed
// with real clients: every real client is served and the accept path never stops.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {
void connect_and_reset(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(fd);
}
}  // namespace

TEST(reset_storm, real_clients_are_all_served_and_accept_never_stops) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    std::atomic<bool> storming{true};
    std::atomic<int> resets{0};
    std::vector<std::thread> stormers;
    for (int t = 0; t < 2; ++t)
        stormers.emplace_back([&] {
            while (storming && resets < 4000) {
                connect_and_reset(broker.port());
                ++resets;
            }
        });
    std::atomic<int> served{0};
    std::vector<std::string> errors;
    std::mutex m;
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t)
        clients.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                test::tls_client c;
                const auto msg = test::random_bytes(1000 + i, static_cast<std::uint32_t>(t * 100 + i));
                std::string got;
                if (c.open(broker.port()) && c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg) {
                    ++served;
                } else {
                    std::lock_guard lock(m);
                    errors.push_back(c.error());
                }
            }
        });
    for (auto& c : clients) c.join();
    storming = false;
    for (auto& s : stormers) s.join();
    for (const auto& e : errors) ADD_FAILURE() << e;
    EXPECT_EQ(served.load(), 100);
    EXPECT_GT(resets.load(), 100);
    EXPECT_EQ(broker.server().listener_endpoints().size(), 1u);
    // Still accepting after the storm.
    test::tls_client after;
    std::string got;
    ASSERT_TRUE(after.open(broker.port()) && after.write_all("end") && after.read_exact(3, got)) << after.error();
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == 1; }, 5s));
}

// The field failure itself, made deterministic: a connection reset while it waited in the
// accept queue is still handed out by accept(), and the first call on it (getpeername)
// fails. That connection is closed and counted (rejected_sockopt); the listener accepts on.
TEST(reset_storm, a_connection_reset_in_the_accept_queue_is_counted_and_accepting_goes_on) {
    test::echo_backend backend;
    test::broker_harness broker(backend.port(), {{"listeners", {{{"max_connections", 1}}}}});
    test::tls_client holder;
    ASSERT_TRUE(holder.open(broker.port())) << holder.error();
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::accept_pauses) >= 1; }, 5s))
        << "the listener did not pause at max_connections";
    connect_and_reset(broker.port());  // waits in the backlog, then resets there
    holder.close();                    // the slot frees: the listener accepts the reset one
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::rejected_sockopt) == 1; }, 5s))
        << "rejected_sockopt " << broker.counter(core::counter::rejected_sockopt);
    test::tls_client after;
    std::string got;
    ASSERT_TRUE(after.open(broker.port()) && after.write_all("on") && after.read_exact(2, got)) << after.error();
    EXPECT_EQ(got, "on");
}
