// Event-loop heartbeat: from its own thread, posts a heartbeat to the io_context and
// reports when it runs later than the bound, i.e. when handlers kept every worker busy
// (a blocking call in a handler). With N worker threads, all N must be blocked to delay it.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/common/counters.hpp"

namespace tlsbroker::core {

class event_loop_monitor {
public:
    event_loop_monitor(boost::asio::io_context& ioc, std::chrono::milliseconds bound, counter_block& total);
    ~event_loop_monitor();
    event_loop_monitor(const event_loop_monitor&) = delete;
    event_loop_monitor& operator=(const event_loop_monitor&) = delete;

    void start();
    void stop();  // joins the thread

private:
    void loop();

    boost::asio::io_context& ioc_;
    std::chrono::milliseconds bound_;
    counter_block& total_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    // Heartbeat in flight: when it was posted (0 = none). Shared with the posted handler,
    // which may run after this object is gone.
    std::shared_ptr<std::atomic<std::int64_t>> posted_ns_ = std::make_shared<std::atomic<std::int64_t>>(0);
    bool reported_ = false;
};

}  // namespace tlsbroker::core
