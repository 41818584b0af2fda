// log.format "json" (config/README.md): every line the console and file sinks write is one
// JSON object, {"time": "2026-11-23 05:13:39.123", "level": "warning", "message": "..."}; a
// record written with log::write_fields() (the connection line) carries its own members
// instead of "message". Pure functions, unit-tested without a sink.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tlsbroker::log {

enum class level;

// `text` as the inside of a JSON string: '"', '\\' and control characters escaped (\n, \t,
// \u00XX), bytes that are not UTF-8 replaced by U+FFFD, so the object always parses.
void append_json_string(std::string& out, std::string_view text);

// One line (without the newline): `members` is either empty (then "message" holds `message`)
// or the members of a write_fields() record, e.g. "\"event\":\"connection\",\"bytes_in\":5".
std::string format_json_line(std::chrono::system_clock::time_point when, level l, std::string_view message,
                             std::string_view members);

// Builds the members of a write_fields() record: ",\"key\":value" pairs after the first.
class json_members {
public:
    // A string; an empty value is null (as "-" is in the text line).
    void add(std::string_view key, std::string_view value);
    void add_number(std::string_view key, std::int64_t value);
    const std::string& str() const { return out_; }

private:
    void key(std::string_view k);
    std::string out_;
};

}  // namespace tlsbroker::log
