#include "core/common/log_json.hpp"

#include <cstdio>

#include "core/common/log.hpp"

namespace tlsbroker::log {

namespace {

// The length of the UTF-8 sequence at the start of `s`, 0 when it is not one (overlong forms,
// surrogates and values above U+10FFFF included).
std::size_t utf8_length(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
        if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
        if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    while (!text.empty()) {
        const auto c = static_cast<unsigned char>(text.front());
        const auto n = utf8_length(text);
        if (n == 0) {
            out += "\\ufffd";
            text.remove_prefix(1);
            continue;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out.append(text.substr(0, n));
        }
        text.remove_prefix(n);
    }
    out += '"';
}

std::string format_json_line(std::chrono::system_clock::time_point when, level l, std::string_view message,
                             std::string_view members) {
    // The text line's timestamp and level: "2026-11-23 05:13:39.123 [warning] ..."
    const auto text = format_line(when, l, "");
    std::string out = "{\"time\":";
    append_json_string(out, text.substr(0, text.find(" [")));
    out += ",\"level\":";
    append_json_string(out, to_string(l));
    out += ',';
    if (members.empty()) {
        out += "\"message\":";
        append_json_string(out, message);
    } else {
        out += members;
    }
    out += '}';
    return out;
}

void json_members::key(std::string_view k) {
    if (!out_.empty()) out_ += ',';
    append_json_string(out_, k);
    out_ += ':';
}

void json_members::add(std::string_view k, std::string_view value) {
    key(k);
    if (value.empty())
        out_ += "null";
    else
        append_json_string(out_, value);
}

void json_members::add_number(std::string_view k, std::int64_t value) {
    key(k);
    out_ += std::to_string(value);
}

}  // namespace tlsbroker::log
