#include "core/session/buffer_pool.hpp"

namespace tlsbroker::core {

buffer_pool::buffer buffer_pool::take() {
    char* p = nullptr;
    {
        std::lock_guard lock(mutex_);
        ++in_use_;
        if (!free_.empty()) {
            p = free_.back();
            free_.pop_back();
        }
    }
    if (p == nullptr) p = new char[buffer_size];
    return buffer(p, deleter{this});
}

void buffer_pool::give_back(char* p) {
    {
        std::lock_guard lock(mutex_);
        --in_use_;
        if (free_.size() < max_cached_) {
            free_.push_back(p);
            return;
        }
    }
    delete[] p;
}

std::size_t buffer_pool::cached() const {
    std::lock_guard lock(mutex_);
    return free_.size();
}

std::size_t buffer_pool::in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
}

buffer_pool::~buffer_pool() {
    for (char* p : free_) delete[] p;
}

}  // namespace tlsbroker::core
