// The session on its own: a context built by the test (no listener, no server), a real TLS
// client and an echo backend on loopback. Relay, half-close, timeouts, and the slot given
// back on every path, an exception escaping a handler included.
#include "core/session/session.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "config/loader.hpp"
#include "core/accept/socket_options.hpp"
#include "core/session/session_context.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Runs an io_context on two threads; like server::run, an exception that escapes a handler
// is counted and the loop goes on.
class loop {
public:
    loop() {
        for (int i = 0; i < 2; ++i)
            threads_.emplace_back([this] {
                for (;;) {
                    try {
                        ioc.run();
                        return;
                    } catch (const std::exception&) {
                        escaped.fetch_add(1);
                    }
                }
            });
    }
    ~loop() {
        work_.reset();
        ioc.stop();
        for (auto& t : threads_) t.join();
    }
    asio::io_context ioc;
    std::atomic<int> escaped{0};

private:
    asio::executor_work_guard<asio::io_context::executor_type> work_{ioc.get_executor()};
    std::vector<std::thread> threads_;
};

class session_test : public ::testing::Test {
protected:
    void SetUp() override { dir_ = test::make_temp_dir("session"); }
    // The loop goes before the rest: sessions still pending are destroyed while what they
    // point at lives. The backend set's timers must go while the loop's io_context lives: the
    // fixture lets go of the set first (sessions that still hold it let go of it as the loop
    // destroys them).
    void TearDown() override {
        if (backends_) backends_->stop_checks();
        backends_.reset();
        acceptor_.reset();
        loop_.reset();
    }

    // Builds the config and the context parts for a backend on `backend_port`.
    // `resolve`: the backend set's name lookups (the set is started when a function is given).
    void configure(std::uint16_t backend_port, const nlohmann::json& patch = nlohmann::json::object(),
                   core::backend_resolver::options resolve = {}) {
        auto j = test::base_config(dir_, backend_port);
        test::merge(j, patch);
        if (j["listeners"][0].contains("backends")) j["listeners"][0].erase("backend");  // one or the other
        const auto loaded = config::load_text(j.dump(), dir_);
        ASSERT_TRUE(loaded.ok());
        root_ = loaded.config;
        const auto& lc = root_->listeners.at(0);
        admission_ = std::make_shared<core::endpoint_admission>(core::endpoint_admission::limits_of(lc));
        tls_ = std::make_shared<core::tls_context>(lc.name, lc.tls);
        const bool start = static_cast<bool>(resolve.resolve);
        backends_ = std::make_shared<core::backend_set>(lc, ctr_, std::move(resolve));
        if (start) backends_->start_checks(loop_->ioc);
        acceptor_.emplace(loop_->ioc, tcp::endpoint{asio::ip::address_v4::loopback(), 0});
    }

    // Connects `client` (TCP only) and starts a session for the accepted socket.
    void start_session(test::tls_client& client, std::function<void(core::session_event)> observe = {}) {
        ASSERT_TRUE(client.connect(acceptor_->local_endpoint().port())) << client.error();
        tcp::socket s = acceptor_->accept(asio::make_strand(loop_->ioc));
        const auto peer = s.remote_endpoint();
        ASSERT_FALSE(core::apply_socket_options(s, root_->listeners.at(0)));  // non-blocking, as the listener does
        auto a = admission_->admit(peer.address());
        ASSERT_TRUE(a.slot);
        a.slot.track(ctr_);
        core::session_context ctx{root_,     &root_->listeners.at(0), tls_,  backends_, &pool_, ctr_, std::move(a.slot),
                                  registry_, std::move(observe),      false, nullptr};
        auto sess = std::make_shared<core::session>(std::move(ctx), std::move(s), peer);
        asio::post(sess->executor(), [sess] { sess->start(); });
    }

    bool all_given_back() {
        return test::wait_until(
            [&] {
                return admission_->active() == 0 && registry_->size() == 0 &&
                       own_.get(core::counter::connections_active) == 0;
            },
            5s);
    }

    std::filesystem::path dir_;
    std::unique_ptr<loop> loop_ = std::make_unique<loop>();
    config::config_ptr root_;
    std::shared_ptr<core::endpoint_admission> admission_;
    std::shared_ptr<core::tls_context> tls_;
    std::shared_ptr<core::backend_set> backends_;
    std::shared_ptr<core::connection_registry> registry_ = std::make_shared<core::connection_registry>();
    core::buffer_pool pool_;
    core::counter_block own_, total_;
    core::counters ctr_{own_, total_};
    std::optional<tcp::acceptor> acceptor_;
};

}  // namespace

TEST_F(session_test, relays_both_ways_and_gives_the_slot_back) {
    test::echo_backend backend;
    configure(backend.port());
    test::tls_client c;
    start_session(c);
    ASSERT_TRUE(c.handshake()) << c.error();
    EXPECT_EQ(admission_->active(), 1u);
    EXPECT_EQ(registry_->size(), 1u);
    const auto payload = test::random_bytes(300000, 3);
    ASSERT_TRUE(c.write_all(payload));
    std::string got;
    ASSERT_TRUE(c.read_exact(payload.size(), got));
    EXPECT_TRUE(got == payload);
    c.close();
    EXPECT_TRUE(all_given_back());
    EXPECT_EQ(own_.get(core::counter::bytes_client_to_backend), payload.size());
    EXPECT_EQ(own_.get(core::counter::bytes_backend_to_client), payload.size());
    EXPECT_EQ(own_.get(core::counter::handshakes_ok), 1u);
}

TEST_F(session_test, client_half_close_reaches_the_backend_and_the_echo_still_arrives) {
    test::echo_backend backend;
    configure(backend.port());
    test::tls_client c;
    start_session(c);
    ASSERT_TRUE(c.handshake()) << c.error();
    const auto payload = test::random_bytes(100000, 5);
    ASSERT_TRUE(c.write_all(payload));
    c.shutdown_write();
    std::string got;
    ASSERT_TRUE(c.read_to_eof(got)) << c.error();
    EXPECT_TRUE(got == payload);
    EXPECT_TRUE(all_given_back());
    EXPECT_EQ(own_.get(core::counter::timeouts_half_close), 0u);
}

TEST_F(session_test, half_close_timeout_cuts_the_other_side) {
    test::echo_backend::options o;
    o.greet_then_close = 10;
    test::echo_backend backend(o);
    configure(backend.port(), {{"listeners", {{{"timeouts", {{"half_close_ms", 200}}}}}}});
    test::tls_client c;
    start_session(c);
    ASSERT_TRUE(c.handshake()) << c.error();
    std::string got;
    ASSERT_TRUE(c.read_to_eof(got));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(all_given_back());
    EXPECT_EQ(own_.get(core::counter::timeouts_half_close), 1u);
}

TEST_F(session_test, handshake_timeout_closes_and_gives_the_slot_back) {
    test::echo_backend backend;
    configure(backend.port(), {{"listeners", {{{"timeouts", {{"handshake_ms", 200}}}}}}});
    test::tls_client c;
    start_session(c);  // TCP only: no ClientHello ever comes
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(all_given_back());
    EXPECT_EQ(own_.get(core::counter::handshakes_timeout), 1u);
    EXPECT_EQ(own_.get(core::counter::handshakes_in_progress), 0u);
}

TEST_F(session_test, idle_timeout_closes_a_quiet_connection) {
    test::echo_backend backend;
    configure(backend.port(), {{"listeners", {{{"timeouts", {{"idle_ms", 200}}}}}}});
    test::tls_client c;
    start_session(c);
    ASSERT_TRUE(c.handshake()) << c.error();
    ASSERT_TRUE(c.write_all("ping"));
    std::string got;
    ASSERT_TRUE(c.read_exact(4, got));
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(all_given_back());
    EXPECT_EQ(own_.get(core::counter::timeouts_idle), 1u);
}

TEST_F(session_test, backend_unreachable_closes_and_gives_the_slot_back) {
    configure(test::unused_port());
    test::tls_client c;
    start_session(c);
    ASSERT_TRUE(c.handshake()) << c.error();
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(all_given_back());
    EXPECT_EQ(own_.get(core::counter::backend_connect_failures), 1u);
}

TEST_F(session_test, exception_escaping_a_handler_gives_the_slot_back) {
    // The throw stands for bad_alloc (or any failure) inside a completion handler: it
    // escapes to the event loop, and the session must still close and free its slot.
    test::echo_backend backend;
    configure(backend.port());
    test::tls_client c;
    start_session(c, [](core::session_event e) {
        if (e == core::session_event::connected) throw std::runtime_error("injected");
    });
    ASSERT_TRUE(c.handshake()) << c.error();
    EXPECT_TRUE(test::wait_until([&] { return loop_->escaped.load() == 1; }, 5s));
    EXPECT_TRUE(all_given_back()) << admission_->active() << " slots held";
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_EQ(pool_.in_use(), 0u);
}

TEST_F(session_test, exception_during_the_handshake_gives_the_slot_back) {
    test::echo_backend backend;
    configure(backend.port());
    test::tls_client c;
    start_session(c, [](core::session_event e) {
        if (e == core::session_event::handshake_done) throw std::bad_alloc();
    });
    c.handshake();  // the server side throws as the handshake completes
    EXPECT_TRUE(test::wait_until([&] { return loop_->escaped.load() == 1; }, 5s));
    EXPECT_TRUE(all_given_back()) << admission_->active() << " slots held";
    EXPECT_EQ(own_.get(core::counter::handshakes_in_progress), 0u);
    EXPECT_TRUE(c.wait_closed(5s));
}

namespace {

// Name lookups the test answers: every one stays pending until answer().
struct held_lookups {
    std::mutex mu;
    std::vector<core::backend_resolver::resolve_done> pending;
    int calls = 0;
    core::backend_resolver::options options() {
        core::backend_resolver::options o;
        o.resolve = [this](const std::string&, std::uint16_t, core::backend_resolver::resolve_done done) {
            std::lock_guard lock(mu);
            ++calls;
            pending.push_back(std::move(done));
        };
        return o;
    }
    int count() {
        std::lock_guard lock(mu);
        return calls;
    }
    void answer(std::uint16_t port) {
        std::vector<core::backend_resolver::resolve_done> d;
        {
            std::lock_guard lock(mu);
            d.swap(pending);
        }
        for (auto& f : d) f({}, {tcp::endpoint(asio::ip::address_v4::loopback(), port)});
    }
};

nlohmann::json named_backend(std::uint16_t port, std::uint32_t connect_timeout_ms) {
    return {{"listeners",
             {{{"backend",
                {{"address", "localhost:" + std::to_string(port)}, {"connect_timeout_ms", connect_timeout_ms}}}}}}};
}

}  // namespace

TEST_F(session_test, sessions_to_a_named_backend_wait_on_one_lookup_then_relay) {
    test::echo_backend backend;
    held_lookups h;
    configure(backend.port(), named_backend(backend.port(), 5000), h.options());
    constexpr int n = 8;
    std::vector<std::unique_ptr<test::tls_client>> clients;
    for (int i = 0; i < n; ++i) {
        clients.push_back(std::make_unique<test::tls_client>());
        start_session(*clients.back());
        ASSERT_TRUE(clients.back()->handshake()) << clients.back()->error();
    }
    ASSERT_TRUE(test::wait_until([&] { return backends_->resolver().waiting() == n; }, 5s));
    EXPECT_EQ(h.count(), 1);  // one lookup for the name, not one per session
    EXPECT_EQ(backends_->resolver().lookups_in_flight(), 1u);
    h.answer(backend.port());
    for (auto& c : clients) {
        ASSERT_TRUE(c->write_all("ping"));
        std::string got;
        ASSERT_TRUE(c->read_exact(4, got)) << c->error();
        EXPECT_EQ(got, "ping");
    }
    // A session that comes later takes the cached addresses.
    test::tls_client late;
    start_session(late);
    ASSERT_TRUE(late.handshake()) << late.error();
    ASSERT_TRUE(late.write_all("pong"));
    std::string got;
    ASSERT_TRUE(late.read_exact(4, got));
    EXPECT_EQ(h.count(), 1);
    for (auto& c : clients) c->close();
    late.close();
    EXPECT_TRUE(all_given_back());
}

TEST_F(session_test, a_session_that_gives_up_on_a_name_lookup_leaves_no_wait_behind) {
    test::echo_backend backend;
    held_lookups h;
    configure(backend.port(), named_backend(backend.port(), 200), h.options());
    test::tls_client c;
    start_session(c);
    ASSERT_TRUE(c.handshake()) << c.error();
    ASSERT_TRUE(test::wait_until([&] { return backends_->resolver().waiting() == 1; }, 5s));
    // No answer within connect_timeout_ms: the backend counts as failed, the client is closed.
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_TRUE(all_given_back());
    EXPECT_EQ(backends_->resolver().waiting(), 0u);
    EXPECT_EQ(own_.get(core::counter::backend_connect_failures), 1u);
    EXPECT_EQ(h.count(), 1);
}

TEST_F(session_test, a_name_that_finds_nothing_fails_over_to_the_next_backend) {
    test::echo_backend backend;
    held_lookups h;
    const auto echo = "127.0.0.1:" + std::to_string(backend.port());
    configure(backend.port(),
              {{"listeners",
                {{{"backends", {{{"address", "localhost:1"}}, {{"address", echo}}}}, {"backend_policy", "first"}}}}},
              h.options());
    ASSERT_TRUE(test::wait_until([&] { return h.count() == 1; }, 5s));
    {
        std::vector<core::backend_resolver::resolve_done> d;
        {
            std::lock_guard lock(h.mu);
            d.swap(h.pending);
        }
        for (auto& f : d) f(asio::error::host_not_found, {});
    }
    ASSERT_TRUE(test::wait_until([&] { return own_.get(core::counter::backend_resolve_failures) == 1; }, 5s));
    test::tls_client c;
    start_session(c);
    ASSERT_TRUE(c.handshake()) << c.error();
    ASSERT_TRUE(c.write_all("ping"));
    std::string got;
    ASSERT_TRUE(c.read_exact(4, got)) << c.error();
    EXPECT_EQ(got, "ping");
    c.close();
    EXPECT_TRUE(all_given_back());
}
