// The broker's event loops: one thread per loop, connections spread over them in turn.
#include "core/common/event_loops.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

TEST(event_loops, next_hands_out_every_loop_in_turn) {
    core::event_loops loops(3);
    ASSERT_EQ(loops.size(), 3u);
    EXPECT_EQ(&loops.next(), &loops.control());
    EXPECT_EQ(&loops.next(), &loops.at(1));
    EXPECT_EQ(&loops.next(), &loops.at(2));
    EXPECT_EQ(&loops.next(), &loops.control());
}

TEST(event_loops, no_threads_asked_for_is_one_loop) {
    core::event_loops loops(0);
    EXPECT_EQ(loops.size(), 1u);
    EXPECT_EQ(&loops.next(), &loops.control());
}

TEST(event_loops, each_loop_runs_on_a_thread_of_its_own_until_stopped) {
    core::event_loops loops(3);
    std::mutex m;
    std::set<std::thread::id> ids;
    std::size_t ran = 0;
    for (std::size_t i = 0; i < loops.size(); ++i)
        boost::asio::post(loops.at(i), [&] {
            std::lock_guard lock(m);
            ids.insert(std::this_thread::get_id());
            ++ran;
        });
    std::thread runner([&] { loops.run([](boost::asio::io_context& l) { l.run(); }); });
    EXPECT_TRUE(test::wait_until(
        [&] {
            std::lock_guard lock(m);
            return ran == 3;
        },
        5s));
    // Loops with nothing to do keep running (a quiet loop must still take new connections).
    boost::asio::post(loops.at(2), [&] {
        std::lock_guard lock(m);
        ++ran;
    });
    EXPECT_TRUE(test::wait_until(
        [&] {
            std::lock_guard lock(m);
            return ran == 4;
        },
        5s));
    loops.stop();
    runner.join();  // run() returns once every loop stopped
    std::lock_guard lock(m);
    EXPECT_EQ(ids.size(), 3u);
}
