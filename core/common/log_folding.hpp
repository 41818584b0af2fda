// Folding of repeated log lines: per key, the first line in a window is written, repeats
// inside the window are only counted, and the next line written for that key reports how
// many were folded. Pure logic with the time passed in, so it is tested without sleeping;
// the caller serialises access (log.cpp holds a mutex around it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tlsbroker::log {

class line_folder {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    struct decision {
        bool write = true;             // write this line now
        std::uint64_t suppressed = 0;  // repeats folded since the last written line (report them)
    };

    explicit line_folder(std::chrono::milliseconds window = std::chrono::milliseconds(10000),
                         std::size_t max_keys = 1024);

    // Decides for one line with `key` at time `now`. A window of zero writes every line.
    decision check(std::string_view key, time_point now);

    void set_window(std::chrono::milliseconds window) { window_ = window; }
    std::chrono::milliseconds window() const { return window_; }

    // Keys tracked now; never more than max_keys.
    std::size_t size() const { return entries_.size(); }
    std::size_t max_keys() const { return max_keys_; }
    // Repeats whose key was evicted before a line could report them.
    std::uint64_t lost_suppressed() const { return lost_suppressed_; }

private:
    struct entry {
        time_point last_written;
        std::uint64_t suppressed = 0;
    };

    // Makes room for one more key: drops every entry whose window is over, and if none was,
    // the one written longest ago.
    void make_room(time_point now);

    std::chrono::milliseconds window_;
    std::size_t max_keys_;
    std::unordered_map<std::string, entry> entries_;
    std::uint64_t lost_suppressed_ = 0;
};

}  // namespace tlsbroker::log
