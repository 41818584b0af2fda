#include "config/document.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace tlsbroker::config {

namespace {

// Where the parser is: one frame per open object or array.
struct frame {
    bool array = false;
    std::size_t next_index = 0;  // arrays: the index of the next element
    std::string pointer;
    std::string key;             // objects: the key of the value being read
    std::set<std::string> keys;  // objects: keys seen so far
};

std::string child_pointer(frame& parent) {
    if (parent.array) return parent.pointer + "/" + std::to_string(parent.next_index++);
    return parent.pointer + "/" + escape_pointer_token(parent.key);
}

std::vector<std::string> split_pointer(const std::string& pointer) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < pointer.size() && pointer[pos] == '/') {
        const auto next = pointer.find('/', pos + 1);
        std::string raw = pointer.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        std::string token;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '~' && i + 1 < raw.size()) {
                token += raw[i + 1] == '1' ? '/' : '~';
                ++i;
            } else {
                token += raw[i];
            }
        }
        out.push_back(std::move(token));
        if (next == std::string::npos) break;
        pos = next;
    }
    return out;
}

// The pointer's position as the ordinal of each step in its container.
std::vector<std::size_t> position(const json& doc, const std::string& pointer) {
    std::vector<std::size_t> pos;
    const json* cur = &doc;
    for (const auto& token : split_pointer(pointer)) {
        if (cur == nullptr) break;
        const json* next = nullptr;
        std::size_t ordinal = cur->size();  // not found: after every sibling
        if (cur->is_object()) {
            std::size_t i = 0;
            for (auto it = cur->begin(); it != cur->end(); ++it, ++i)
                if (it.key() == token) {
                    ordinal = i;
                    next = &it.value();
                    break;
                }
        } else if (cur->is_array()) {
            const bool digits = !token.empty() && std::all_of(token.begin(), token.end(),
                                                              [](unsigned char c) { return c >= '0' && c <= '9'; });
            if (digits && token.size() < 10 && std::stoul(token) < cur->size()) {
                ordinal = std::stoul(token);
                next = &(*cur)[ordinal];
            }
        }
        pos.push_back(ordinal);
        cur = next;
    }
    return pos;
}

}  // namespace

std::optional<json> parse_document(std::string_view text, std::vector<config_error>& errors) {
    std::vector<frame> stack;
    std::vector<config_error> duplicates;
    const json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
            case json::parse_event_t::array_start: {
                frame f;
                f.array = event == json::parse_event_t::array_start;
                f.pointer = stack.empty() ? std::string() : child_pointer(stack.back());
                stack.push_back(std::move(f));
                break;
            }
            case json::parse_event_t::key: {
                auto& top = stack.back();
                top.key = parsed.get<std::string>();
                if (!top.keys.insert(top.key).second)
                    duplicates.push_back({top.pointer + "/" + escape_pointer_token(top.key),
                                          "duplicate key (written more than once in this object)"});
                break;
            }
            case json::parse_event_t::value:
                if (!stack.empty() && stack.back().array) ++stack.back().next_index;
                break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                if (!stack.empty()) stack.pop_back();
                break;
        }
        return true;
    };
    try {
        auto doc = json::parse(text.begin(), text.end(), watch);
        errors.insert(errors.end(), duplicates.begin(), duplicates.end());
        return doc;
    } catch (const json::parse_error& e) {
        // e.what(): "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        const std::string what = e.what();
        const auto at = what.find("parse error");
        errors.push_back({"", "invalid JSON: " + (at == std::string::npos ? what : what.substr(at))});
        return std::nullopt;
    }
}

void sort_in_document_order(const json& doc, std::vector<config_error>& errors) {
    std::vector<std::pair<std::vector<std::size_t>, config_error>> keyed;
    keyed.reserve(errors.size());
    for (auto& e : errors) keyed.emplace_back(position(doc, e.pointer), std::move(e));
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    errors.clear();
    for (auto& [pos, e] : keyed) errors.push_back(std::move(e));
}

}  // namespace tlsbroker::config
