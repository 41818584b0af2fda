// Logging: Boost.Log underneath; console in the foreground, a rotating file per config,
// and (on Windows) the Event Log for warnings and errors. Repeated identical messages are
// folded (core/common/log_folding.hpp) so a failing path can never flood the log.
#pragma once

#include <boost/log/sinks/sink.hpp>
#include <boost/smart_ptr/shared_ptr.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/common/log_event.hpp"

namespace tlsbroker::log {

enum class level { trace, debug, info, warning, error };

// Parses "trace".."error"; returns false for anything else.
bool parse_level(std::string_view text, level& out);
const char* to_string(level l);

// Console only, at `min`; safe to call before the config is known.
void init_console(level min = level::info);
// Applies the config: level, rotating file (if set), rate-limit window. Keeps the console
// sink when `console` is true. Throws std::runtime_error if the file cannot be opened.
void configure(const config::log_config& cfg, bool console);
// Flushes and removes every sink.
void shutdown();

// Sets the minimum level on its own (configure() does this from the config).
void set_level(level min);
level current_level();
// True when a line at `l` would be written (lets callers skip building expensive text).
bool enabled(level l);

// Writes one line. Control bytes (below 0x20, and 0x7f) in `message` are written as \xNN,
// so that nothing a peer supplies can end a line or forge the next one.
void write(level l, std::string_view message);
std::string escape_controls(std::string_view text);

// Writes `message` unless a message with the same `key` was written within the rate-limit
// window; suppressed repeats are counted and reported as "(N similar suppressed)" on the
// next line written for that key. Returns true when the line was written.
bool limited(level l, std::string_view key, std::string_view message);

// The same with tags (core/common/log_event.hpp): an event type and its insertion strings, or
// the per-client mark (log::client()), which keeps a warning or error out of the Event Log.
void write(level l, std::string_view message, const tags& t);
bool limited(level l, std::string_view key, std::string_view message, const tags& t);
// An event record, at the level its catalog entry gives:
//   log::write_event(log::event::listener_bound, {{"listener", name}, {"address", ep}}, line);
void write_event(event e, std::initializer_list<event_arg> args, std::string_view message);
// True when log.format is "json" (core/common/log_json.hpp): a record whose tags carry
// `fields` is written as those members (the connection line builds them only then).
bool json_lines();
bool limited_event(event e, std::string_view key, std::initializer_list<event_arg> args, std::string_view message);

// Lines lost because a sink failed (an exception inside Boost.Log is counted here and goes
// no further).
std::uint64_t failed_lines();

// Sets the rate-limit window (configure() does this from the config).
void set_rate_limit(std::chrono::milliseconds window);

// Platform sinks (the Windows Event Log, ...): a sink added here receives every record that
// passes the level filter, next to the console and file sinks, and stays across configure()
// calls until remove_sink() or shutdown(). Each record carries the attribute named
// severity_attribute (value type log::level) and the message (boost::log::expressions::smessage);
// a sink that only wants warnings and errors sets its own filter on that attribute, e.g.
//   sink->set_filter(boost::log::expressions::attr<log::level>(log::severity_attribute)
//                    >= log::level::warning);
inline constexpr const char* severity_attribute = "Severity";
// Set on tagged records only: the event type (log::event), its insertion strings
// (std::vector<std::string>, catalog order) and the origin (log::origin). Only the event type
// is there when the sink filters run (e.g. expr::has_attr<log::event>(log::event_attribute));
// the strings and the origin are attached after: a sink reads them in its backend's consume().
inline constexpr const char* event_attribute = "Event";
inline constexpr const char* event_strings_attribute = "EventStrings";
inline constexpr const char* origin_attribute = "Origin";
inline constexpr const char* fields_attribute = "Fields";
void add_sink(const boost::shared_ptr<boost::log::sinks::sink>& sink);
void remove_sink(const boost::shared_ptr<boost::log::sinks::sink>& sink);

// The text of one line as the console and file sinks write it (without the trailing
// newline), e.g. "2026-11-23 05:13:39.123 [warning] message". `when` is local time.
std::string format_line(std::chrono::system_clock::time_point when, level l, std::string_view message);

// Concatenates its arguments with operator<<.
template <class... Args>
std::string str(const Args&... args) {
    std::ostringstream os;
    (os << ... << args);
    return os.str();
}

// Tests: captures every line written from now on (after level filtering), as
// "[level] message" (no timestamp, so tests can compare exactly).
class capture {
public:
    capture();
    ~capture();
    capture(const capture&) = delete;
    capture& operator=(const capture&) = delete;
    std::vector<std::string> lines() const;
    bool contains(std::string_view needle) const;
    std::size_t count(std::string_view needle) const;  // lines that contain it
    // The tags of every tagged record captured (event records and per-client ones), in order.
    std::vector<tags> tagged() const;

private:
    struct impl;
    impl* impl_;
};

}  // namespace tlsbroker::log

// The text of a line is built only when its level is written.
#define TB_LOG_AT(lvl, ...)                                                                                   \
    do {                                                                                                      \
        if (::tlsbroker::log::enabled(lvl)) ::tlsbroker::log::write(lvl, ::tlsbroker::log::str(__VA_ARGS__)); \
    } while (false)
#define TB_LOG_TRACE(...) TB_LOG_AT(::tlsbroker::log::level::trace, __VA_ARGS__)
#define TB_LOG_DEBUG(...) TB_LOG_AT(::tlsbroker::log::level::debug, __VA_ARGS__)
#define TB_LOG_INFO(...) TB_LOG_AT(::tlsbroker::log::level::info, __VA_ARGS__)
#define TB_LOG_WARN(...) TB_LOG_AT(::tlsbroker::log::level::warning, __VA_ARGS__)
#define TB_LOG_ERROR(...) TB_LOG_AT(::tlsbroker::log::level::error, __VA_ARGS__)
