#include "log_folding.hpp"

#include <algorithm>

namespace tlsbroker::log {

line_folder::line_folder(std::chrono::milliseconds window, std::size_t max_keys)
    : window_(window), max_keys_(std::max<std::size_t>(1, max_keys)) {}

line_folder::decision line_folder::check(std::string_view key, time_point now) {
    if (window_.count() <= 0) return {true, 0};

    // Heterogeneous lookup is C++20 for unordered containers but not in every standard
    // library yet; one string per call is cheap next to formatting a log line.
    std::string k(key);
    auto it = entries_.find(k);
    if (it == entries_.end()) {
        if (entries_.size() >= max_keys_) make_room(now);
        entries_.emplace(std::move(k), entry{now, 0});
        return {true, 0};
    }

    entry& e = it->second;
    if (now - e.last_written < window_) {
        ++e.suppressed;
        return {false, e.suppressed};
    }
    const decision d{true, e.suppressed};
    e.last_written = now;
    e.suppressed = 0;
    return d;
}

void line_folder::make_room(time_point now) {
    std::size_t removed = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (now - it->second.last_written >= window_) {
            lost_suppressed_ += it->second.suppressed;
            it = entries_.erase(it);
            ++removed;
        } else {
            ++it;
        }
    }
    if (removed > 0) return;

    const auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.last_written < b.second.last_written;
    });
    if (oldest != entries_.end()) {
        lost_suppressed_ += oldest->second.suppressed;
        entries_.erase(oldest);
    }
}

}  // namespace tlsbroker::log
