#include "core/session/connection_registry.hpp"

#include <vector>

#include "core/session/session.hpp"

namespace tlsbroker::core {

void connection_registry::add(const std::shared_ptr<session>& s) {
    std::lock_guard lock(mutex_);
    sessions_.emplace(s.get(), s);
}

void connection_registry::remove(const session* s) noexcept {
    std::lock_guard lock(mutex_);
    sessions_.erase(s);
}

std::size_t connection_registry::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

std::size_t connection_registry::abort_all(close_reason why) {
    std::vector<std::shared_ptr<session>> left;
    {
        std::lock_guard lock(mutex_);
        for (auto& [p, w] : sessions_)
            if (auto s = w.lock()) left.push_back(std::move(s));
    }
    for (auto& s : left) s->abort(why);
    return left.size();
}

}  // namespace tlsbroker::core
