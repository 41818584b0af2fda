// The Windows service's reload thread (service/windows/reload_worker.*): request() returns at
// once whatever the reload is doing, requests during a reload fold into one more run, and the
// destructor waits for a reload under way.
#include "service/windows/reload_worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "support/wait.hpp"

using namespace tlsbroker::service;
using namespace std::chrono_literals;

TEST(reload_worker, request_never_blocks_and_requests_fold) {
    std::mutex mu;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> started{0}, finished{0};
    {
        reload_worker w([&] {
            ++started;
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return release; });
            ++finished;
        });
        w.request();
        ASSERT_TRUE(tlsbroker::test::wait_until([&] { return started == 1; }, 5s));
        // The first reload is blocked: more requests return at once and fold into one run.
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 5; ++i) w.request();
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
        {
            std::lock_guard lock(mu);
            release = true;
        }
        cv.notify_all();
        ASSERT_TRUE(tlsbroker::test::wait_until([&] { return finished == 2; }, 5s));
    }
    EXPECT_EQ(started, 2);  // one for the first request, one for the five folded
}

// The service frees the server only after the worker is gone: the destructor must wait for
// a reload under way (the reload uses the server to the end) and drop one still pending.
TEST(reload_worker, destruction_waits_for_the_reload_under_way_and_drops_a_pending_one) {
    std::mutex mu;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> started{0}, finished{0};
    auto w = std::make_unique<reload_worker>([&] {
        ++started;
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return release; });
        ++finished;
    });
    w->request();
    ASSERT_TRUE(tlsbroker::test::wait_until([&] { return started == 1; }, 5s));
    w->request();  // pending behind the one under way
    std::atomic<bool> destroyed{false};
    std::thread t([&] {
        w.reset();
        destroyed = true;
    });
    // The destructor is blocked on the reload: still nothing destroyed after the reload has
    // been seen running, until it is released.
    EXPECT_FALSE(tlsbroker::test::wait_until([&] { return destroyed.load(); }, 200ms));
    EXPECT_EQ(finished, 0);
    {
        std::lock_guard lock(mu);
        release = true;
    }
    cv.notify_all();
    t.join();
    EXPECT_TRUE(destroyed);
    EXPECT_EQ(finished, 1);
    EXPECT_EQ(started, 1);  // the pending request was dropped
}
