#include "engine.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace loadgen {

engine::engine(std::size_t threads) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
        ctx_.push_back(std::make_unique<net::io_context>(1));
}

engine::~engine() = default;

bool engine::run(double max_seconds) {
    std::mutex m;
    std::condition_variable cv;
    std::size_t running = ctx_.size();
    std::vector<std::thread> threads;
    for (auto& c : ctx_) {
        threads.emplace_back([&, ctx = c.get()] {
            ctx->run();
            std::lock_guard lock(m);
            --running;
            cv.notify_all();
        });
    }
    bool in_time = true;
    {
        std::unique_lock lock(m);
        const auto deadline = after(max_seconds);
        if (!cv.wait_until(lock, deadline, [&] { return running == 0; })) in_time = false;
    }
    if (!in_time) stop();
    for (auto& t : threads) t.join();
    return in_time;
}

void engine::stop() {
    for (auto& c : ctx_) c->stop();
}

long raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    return static_cast<long>(rl.rlim_cur);
}

}  // namespace loadgen
