// The Windows service's reload thread (service/windows/reload_worker.*): request() returns at
// once whatever the reload is doing, requests during a reload fold into one more run, and the
// destructor waits for a reload under way.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "service/windows/reload_worker.hpp"
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
