// Typed access to one JSON object that records every problem with its JSON pointer
// instead of stopping at the first, and reports keys nobody asked for as unknown.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace tlsbroker::config {

// Keys keep the order they were written in, so problems can be listed in document order.
using json = nlohmann::ordered_json;

class json_object {
public:
    // `j` may be null (the key was absent): every read then keeps its default.
    json_object(const json* j, std::string pointer, std::vector<config_error>& errors);

    bool present() const { return j_ != nullptr; }
    // The key was written, whatever its type (a wrong type has already been reported).
    bool has(const char* key) const;
    const std::string& pointer() const { return ptr_; }
    std::string at(const std::string& key) const;
    void error(const std::string& key, const std::string& message) const;
    // An error on a full pointer (an element of an array under this object).
    void error_at(const std::string& pointer, const std::string& message) const;

    void u32(const char* key, std::uint32_t& out, std::uint32_t lo, std::uint32_t hi, bool required = false);
    void boolean(const char* key, bool& out);
    void text(const char* key, std::string& out, bool required = false);
    void choice(const char* key, std::string& out, std::initializer_list<const char*> options);
    // One of the enum's names (config/choices.hpp), or an error that lists them.
    template <class E>
    void choice(const char* key, E& out) {
        std::string v(to_string(out));
        std::vector<std::string_view> names;
        names.reserve(std::size(choice_names<E>::table));
        for (const auto& [e, n] : choice_names<E>::table) names.push_back(n);
        if (choose(key, v, names)) from_string(v, out);
    }
    // A file path, resolved against `base`; must name a readable regular file when set.
    void file(const char* key, std::filesystem::path& out, const std::filesystem::path& base, bool required);
    // A path resolved against `base` that need not exist yet (a log file).
    void path(const char* key, std::filesystem::path& out, const std::filesystem::path& base);
    // "host:port". Listen hosts must be literal addresses or "*"; backend hosts may be names.
    void address(const char* key, endpoint& out, bool listen, bool required);
    json_object child(const char* key);
    // The array under `key` (nullptr when absent or not an array; the latter is an error).
    const json* array(const char* key, bool required = false);
    // Every key not read is an error ("unknown key", with the closest known one).
    void finish();

private:
    const json* get(const char* key, bool required);
    // Reads `key` into `out` when it is one of `names`; false (with an error) otherwise.
    bool choose(const char* key, std::string& out, const std::vector<std::string_view>& names);

    const json* j_;
    bool wrong_type_ = false;  // already reported; no "is required" for its keys
    std::string ptr_;
    std::vector<config_error>* errors_;
    std::set<std::string> known_;
};

// "host:port" / "[v6]:port" → endpoint; returns an error message or "".
std::string parse_endpoint(const std::string& text, endpoint& out, bool listen);
// Whether two listen endpoints would compete for the same port (wildcards included).
bool endpoints_overlap(const endpoint& a, const endpoint& b);
// A DNS name or a "*.name" wildcard of one label, as used for SNI.
bool valid_server_name(const std::string& name);
// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);
// One JSON pointer token: "~" → "~0", "/" → "~1".
std::string escape_pointer_token(const std::string& key);
// Reads a whole file; returns "" or the reason it could not ("No such file or directory").
std::string read_file(const std::filesystem::path& file, std::string& out);

}  // namespace tlsbroker::config
