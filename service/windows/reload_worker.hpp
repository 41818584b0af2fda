// Runs config reloads requested by the SCM (PARAMCHANGE) on a thread of its own, so the
// control handler returns at once: a reload reads files and builds TLS contexts, and the SCM
// handler thread must not block. Requests that arrive while one runs fold into one more run.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace tlsbroker::service {

class reload_worker {
public:
    explicit reload_worker(std::function<void()> reload);
    ~reload_worker();  // finishes a reload under way, drops a pending one
    reload_worker(const reload_worker&) = delete;
    reload_worker& operator=(const reload_worker&) = delete;

    void request();  // never blocks

private:
    void run();

    std::function<void()> reload_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool pending_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tlsbroker::service
