// An io_context run by a thread of its own for as long as the object lives: the event loop of
// the unit tests that need one. Declare it before what uses it, so that it stops last.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

namespace tlsbroker::test {

struct io_thread {
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};
    ~io_thread() {
        work.reset();
        ioc.stop();
        thread.join();
    }
};

}  // namespace tlsbroker::test
