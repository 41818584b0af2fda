// The accept loop on real sockets (127.0.0.1, port 0): each class of accept error leads to
// its one next step, a cancelled retry timer arms nothing, and stop() ends in `stopped`.
// Errors are injected with test::accept_faults.
#include "core/accept/accept_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "support/accept_faults.hpp"
#include "support/wait.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using namespace tlsbroker;
using core::accept_event;
using core::listener_state;

namespace {

constexpr int connection_error = test::accept_connection_error;
constexpr int resource_error = test::accept_resource_error;
constexpr int listener_error = test::accept_listener_error;

// Records what the loop hands over and reports.
struct recording_owner : core::accept_loop_owner {
    struct stamped {
        accept_event event;
        std::chrono::steady_clock::time_point at;
    };
    mutable std::mutex mu;
    std::vector<stamped> events;
    std::vector<tcp::socket> sockets;
    std::atomic<bool> room{true};
    std::atomic<std::size_t> max_connections{static_cast<std::size_t>(-1)};

    void on_connection(tcp::socket socket) override {
        std::lock_guard lock(mu);
        sockets.push_back(std::move(socket));
    }
    bool may_arm() override { return room.load() && connections() < max_connections.load(); }
    void on_event(accept_event e) override {
        std::lock_guard lock(mu);
        events.push_back({e, std::chrono::steady_clock::now()});
    }
    std::size_t connections() const {
        std::lock_guard lock(mu);
        return sockets.size();
    }
    std::size_t count(accept_event e) const {
        std::lock_guard lock(mu);
        std::size_t n = 0;
        for (const auto& s : events) n += s.event == e ? 1 : 0;
        return n;
    }
    std::chrono::steady_clock::time_point first(accept_event e) const {
        std::lock_guard lock(mu);
        for (const auto& s : events)
            if (s.event == e) return s.at;
        return {};
    }
};

// A loop on its own event-loop thread, bound to 127.0.0.1 port 0.
struct running_loop {
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    std::shared_ptr<recording_owner> owner = std::make_shared<recording_owner>();
    std::shared_ptr<core::accept_loop> loop;
    std::thread thread;

    explicit running_loop(bool open = true, std::size_t batch = 1) {
        loop = std::make_shared<core::accept_loop>(
            ioc, core::accept_loop_options{"test loop", "test-loop", 64, true, {}, batch, {}});
        loop->set_owner(owner);
        loop->set_endpoint({net::ip::make_address("127.0.0.1"), 0});
        if (open) loop->open();
        thread = std::thread([this] { ioc.run(); });
    }
    ~running_loop() {
        loop->stop();
        work.reset();
        ioc.stop();
        thread.join();
    }
    std::uint16_t port() const { return loop->local_endpoint().port(); }
};

// A blocking client connection (its own context; the connect completes in the kernel).
struct client {
    net::io_context ioc;
    tcp::socket socket{ioc};
    boost::system::error_code connect(std::uint16_t port) {
        boost::system::error_code ec;
        socket.connect({net::ip::make_address("127.0.0.1"), port}, ec);
        return ec;
    }
};

}  // namespace

TEST(accept_loop, accepts_and_hands_over_connections) {
    running_loop r;
    r.loop->start();
    client a, b;
    ASSERT_FALSE(a.connect(r.port()));
    ASSERT_FALSE(b.connect(r.port()));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 2; }, 5s));
    EXPECT_EQ(r.loop->state(), listener_state::accepting);
    EXPECT_EQ(r.loop->progress().accepts, 2u);
    EXPECT_TRUE(test::wait_until([&] { return r.loop->progress().accept_outstanding; }, 5s));
}

TEST(accept_loop, connection_error_accepts_again_at_once) {
    running_loop r;
    auto faults = test::inject_accept_faults(*r.loop);
    faults->fail_next(1, connection_error);
    r.loop->start();
    client a;
    ASSERT_FALSE(a.connect(r.port()));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->count(accept_event::error_connection) == 1; }, 5s));
    // Re-armed without a timer: the next connection is taken.
    client b;
    ASSERT_FALSE(b.connect(r.port()));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 1; }, 5s));
    EXPECT_EQ(r.owner->count(accept_event::backing_off), 0u);
    EXPECT_EQ(r.owner->count(accept_event::resumed_after_backoff), 0u);
    EXPECT_EQ(faults->failures_left(), 0);
    EXPECT_EQ(r.loop->state(), listener_state::accepting);
    EXPECT_FALSE(r.loop->progress().timer_pending);
}

TEST(accept_loop, resource_error_backs_off_then_accepts_again) {
    running_loop r;
    auto faults = test::inject_accept_faults(*r.loop);
    faults->fail_next(1, resource_error);
    r.loop->start();
    client a;
    ASSERT_FALSE(a.connect(r.port()));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->count(accept_event::resumed_after_backoff) == 1; }, 5s));
    EXPECT_EQ(r.owner->count(accept_event::error_resource), 1u);
    EXPECT_EQ(r.owner->count(accept_event::backing_off), 1u);
    // Never an immediate re-arm: the first back-off step (10 ms) passed in between.
    const auto waited = r.owner->first(accept_event::resumed_after_backoff) - r.owner->first(accept_event::backing_off);
    EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count(), 9);
    client b;
    ASSERT_FALSE(b.connect(r.port()));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 1; }, 5s));
    EXPECT_EQ(r.loop->state(), listener_state::accepting);
    EXPECT_EQ(r.owner->count(accept_event::socket_recreated), 0u);
}

TEST(accept_loop, listener_error_recreates_the_socket_on_the_same_port) {
    running_loop r;
    const auto port = r.port();
    auto faults = test::inject_accept_faults(*r.loop);
    faults->fail_next(1, listener_error);
    r.loop->start();
    client a;
    ASSERT_FALSE(a.connect(port));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->count(accept_event::socket_recreated) == 1; }, 5s));
    EXPECT_EQ(r.owner->count(accept_event::error_listener), 1u);
    EXPECT_EQ(r.loop->local_endpoint().port(), port);
    client b;
    ASSERT_FALSE(b.connect(port));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 1; }, 5s));
    EXPECT_EQ(r.loop->state(), listener_state::accepting);
}

TEST(accept_loop, cancelled_retry_timer_arms_nothing) {
    // The endpoint is taken: binding fails and the loop retries with back-off. A stop while
    // the retry timer is pending cancels it, and the cancelled timer must not bind or arm.
    net::io_context other;
    tcp::acceptor blocker(other, {net::ip::make_address("127.0.0.1"), 0});
    const auto port = blocker.local_endpoint().port();

    running_loop r(false);
    r.loop->set_endpoint({net::ip::make_address("127.0.0.1"), port});
    auto faults = test::inject_accept_faults(*r.loop);
    r.loop->start_with_retry();
    ASSERT_TRUE(test::wait_until([&] { return r.loop->progress().timer_pending; }, 5s));
    EXPECT_EQ(r.loop->state(), listener_state::backing_off);

    r.loop->stop();
    ASSERT_TRUE(test::wait_until([&] { return r.loop->state() == listener_state::stopped; }, 5s));
    blocker.close();  // the endpoint is free now: a timer that still fired would bind it
    EXPECT_FALSE(test::wait_until(
        [&] { return r.owner->count(accept_event::socket_recreated) != 0 || r.loop->is_open(); }, 1500ms));
    EXPECT_EQ(faults->arms(), 0u);
    EXPECT_EQ(r.loop->state(), listener_state::stopped);
    EXPECT_FALSE(r.loop->progress().timer_pending);
    client c;
    EXPECT_TRUE(c.connect(port));  // refused: nothing listens
}

TEST(accept_loop, rearm_while_backing_off_is_ignored_and_recreate_cancels_the_retry) {
    net::io_context other;
    tcp::acceptor blocker(other, {net::ip::make_address("127.0.0.1"), 0});
    const auto port = blocker.local_endpoint().port();

    running_loop r(false);
    r.loop->set_endpoint({net::ip::make_address("127.0.0.1"), port});
    r.loop->start_with_retry();
    ASSERT_TRUE(test::wait_until([&] { return r.loop->progress().timer_pending; }, 5s));
    r.loop->rearm();  // only an accepting loop is re-armed
    blocker.close();
    r.loop->recreate();  // the watchdog's step 2: binds now, the pending retry is stale
    ASSERT_TRUE(test::wait_until([&] { return r.loop->state() == listener_state::accepting; }, 5s));
    client c;
    ASSERT_FALSE(c.connect(port));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 1; }, 5s));
    EXPECT_FALSE(r.loop->progress().timer_pending);
    // (The retry timer may have fired between the close and the step: then it bound the
    // socket and the step re-created it once more.) No stale retry re-creates it later.
    const auto recreated = r.owner->count(accept_event::socket_recreated);
    EXPECT_GE(recreated, 1u);
    EXPECT_FALSE(test::wait_until([&] { return r.owner->count(accept_event::socket_recreated) != recreated; }, 1200ms));
    EXPECT_EQ(r.loop->state(), listener_state::accepting);
}

TEST(accept_loop, pauses_when_the_owner_says_no_and_resumes) {
    running_loop r;
    r.owner->room = false;
    r.loop->start();
    ASSERT_TRUE(test::wait_until([&] { return r.loop->state() == listener_state::paused_at_limit; }, 5s));
    EXPECT_EQ(r.owner->count(accept_event::paused_at_limit), 1u);
    client a;
    ASSERT_FALSE(a.connect(r.port()));  // waits in the backlog
    r.loop->resume();                   // still no room: stays paused
    EXPECT_FALSE(test::wait_until([&] { return r.owner->connections() != 0; }, 200ms));
    r.owner->room = true;
    r.loop->resume();
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 1; }, 5s));
    EXPECT_EQ(r.owner->count(accept_event::resumed_below_limit), 1u);
    EXPECT_EQ(r.loop->state(), listener_state::accepting);
}

TEST(accept_loop, dropped_and_lost_arms_leave_their_traces_for_the_watchdog) {
    running_loop r;
    auto faults = test::inject_accept_faults(*r.loop);
    faults->drop_next_arm();
    r.loop->start();
    ASSERT_TRUE(test::wait_until([&] { return faults->arms() == 1; }, 5s));
    auto p = r.loop->progress();
    EXPECT_EQ(p.state, listener_state::accepting);
    EXPECT_FALSE(p.accept_outstanding);  // the invariant the watchdog checks is broken
    faults->lose_next_arm();
    r.loop->rearm();
    ASSERT_TRUE(test::wait_until([&] { return faults->arms() == 2; }, 5s));
    EXPECT_TRUE(test::wait_until([&] { return r.loop->progress().accept_outstanding; }, 5s));
    client a;
    ASSERT_FALSE(a.connect(r.port()));
    ASSERT_TRUE(test::wait_until([&] { return r.loop->queue_depth().value_or(1) >= 1; }, 5s));
    // A new socket keeps what waits in the old one's queue.
    r.loop->recreate();
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 1; }, 5s));
    EXPECT_EQ(r.owner->count(accept_event::socket_recreated), 1u);
}

TEST(accept_loop, stop_ends_in_stopped_with_nothing_outstanding) {
    running_loop r;
    const auto port = r.port();
    r.loop->start();
    client a;
    ASSERT_FALSE(a.connect(port));
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 1; }, 5s));
    ASSERT_TRUE(test::wait_until([&] { return r.loop->progress().accept_outstanding; }, 5s));
    r.loop->stop();
    ASSERT_TRUE(test::wait_until(
        [&] {
            const auto p = r.loop->progress();
            return p.state == listener_state::stopped && !p.accept_outstanding && !p.timer_pending;
        },
        5s));
    EXPECT_FALSE(r.loop->is_open());
    EXPECT_EQ(r.owner->count(accept_event::error_connection), 0u);  // the cancelled accept is no error
    client b;
    EXPECT_TRUE(b.connect(port));  // refused
}

TEST(accept_loop, owner_gone_stops_the_loop) {
    running_loop r;
    r.loop->start();
    ASSERT_TRUE(test::wait_until([&] { return r.loop->progress().accept_outstanding; }, 5s));
    r.owner.reset();
    client a;
    ASSERT_FALSE(a.connect(r.port()));
    EXPECT_TRUE(test::wait_until([&] { return r.loop->state() == listener_state::stopped; }, 5s));
}

TEST(accept_loop, a_completion_takes_what_already_waits_in_the_queue_up_to_its_batch) {
    running_loop r(true, 4);
    // Six connections wait in the queue before the first accept is armed.
    std::vector<std::unique_ptr<client>> clients;
    for (int i = 0; i < 6; ++i) {
        clients.push_back(std::make_unique<client>());
        ASSERT_FALSE(clients.back()->connect(r.port()));
    }
    // A rearm seam counts the overlapped accepts the loop starts.
    struct counting : core::accept_operations {
        std::shared_ptr<core::accept_operations> real = core::default_accept_operations();
        std::atomic<int> started{0};
        bool start(tcp::acceptor& a, const net::any_io_executor& ex, handler done) override {
            ++started;
            return real->start(a, ex, std::move(done));
        }
    };
    auto ops = std::make_shared<counting>();
    std::atomic<bool> applied{false};
    r.loop->use_accept_operations(ops, [&] { applied = true; });
    ASSERT_TRUE(test::wait_until([&] { return applied.load(); }, 5s));
    r.loop->start();
    ASSERT_TRUE(test::wait_until([&] { return r.owner->connections() == 6; }, 5s));
    // The first completion took 4 (1 + 3 queued), the second the other 2: two overlapped
    // accepts served six connections, and a third is outstanding.
    EXPECT_TRUE(test::wait_until([&] { return ops->started.load() == 3; }, 5s)) << ops->started.load();
    EXPECT_EQ(r.loop->progress().accepts, 6u);
    EXPECT_EQ(r.loop->state(), listener_state::accepting);
}

TEST(accept_loop, a_batch_stops_at_the_limit) {
    running_loop r(true, 8);
    std::vector<std::unique_ptr<client>> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(std::make_unique<client>());
        ASSERT_FALSE(clients.back()->connect(r.port()));
    }
    r.owner->max_connections = 3;
    r.loop->start();
    ASSERT_TRUE(test::wait_until([&] { return r.loop->state() == listener_state::paused_at_limit; }, 5s));
    EXPECT_EQ(r.owner->connections(), 3u);  // the other two wait in the queue
}
