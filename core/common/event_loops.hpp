// The broker's event loops. POSIX: one per I/O thread, each run by its own thread, as in
// Asio's "io_context per CPU" server example. Windows: one loop (one I/O completion port)
// run by every I/O thread, as IOCP servers do. Loop 0 is the control loop: listeners, the watchdog,
// the status endpoint, health checks and name lookups run there. Every loop, loop 0 too,
// serves connections: a new connection is given to the next loop in turn and stays on it,
// so its handlers never hop between threads and no thread has to wake another to run them.
// (One io_context shared by all threads made a request/response round trip on a single
// connection wake the other thread and interrupt epoll_wait about twice per round trip.)
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <vector>

namespace tlsbroker::core {

class event_loops {
public:
    // `threads` threads in all (at least 1).
    explicit event_loops(std::size_t threads);
    event_loops(const event_loops&) = delete;
    event_loops& operator=(const event_loops&) = delete;

    boost::asio::io_context& control() { return *loops_.front(); }
    const boost::asio::io_context& control() const { return *loops_.front(); }
    // The loop the next connection goes to (any thread).
    boost::asio::io_context& next();
    std::size_t size() const { return loops_.size(); }
    std::size_t threads() const { return threads_; }
    boost::asio::io_context& at(std::size_t i) { return *loops_.at(i); }

    // Runs every loop on its threads, loop 0 on the calling thread too, until stop() (a loop without work,
    // the control loop too, keeps running: a paused listener leaves it none). `guard` wraps each
    // loop's run() (it catches what a handler throws and runs the loop again).
    void run(const std::function<void(boost::asio::io_context&)>& guard);
    // Stops every loop (any thread): handlers not yet run stay queued until destruction.
    void stop();

private:
    std::size_t threads_;
    std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
    // Keeps each loop running while it has nothing to do.
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> idle_;
    std::atomic<std::size_t> next_{0};
};

}  // namespace tlsbroker::core
