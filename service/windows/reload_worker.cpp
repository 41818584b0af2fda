#include "service/windows/reload_worker.hpp"

namespace tlsbroker::service {

reload_worker::reload_worker(std::function<void()> reload) : reload_(std::move(reload)), thread_([this] { run(); }) {}

reload_worker::~reload_worker() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void reload_worker::request() {
    {
        std::lock_guard lock(mu_);
        pending_ = true;
    }
    cv_.notify_all();
}

void reload_worker::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return pending_ || stopping_; });
        if (stopping_) return;
        pending_ = false;
        lock.unlock();
        reload_();
        lock.lock();
    }
}

}  // namespace tlsbroker::service
