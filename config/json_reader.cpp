#include "config/json_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace tlsbroker::config {

namespace {

std::string type_name(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number_float()) return v.dump();
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_array()) return "an array";
    return "an object";
}

}  // namespace

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string escape_pointer_token(const std::string& key) {
    std::string out;
    out.reserve(key.size());
    for (const char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

std::string read_file(const std::filesystem::path& file, std::string& out) {
    std::error_code ec;
    const auto st = std::filesystem::status(file, ec);
    if (ec) return ec.message();
    if (std::filesystem::is_directory(st)) return "it is a directory";
    errno = 0;
    std::ifstream f(file, std::ios::binary);
    if (!f) return errno != 0 ? std::generic_category().message(errno) : std::string("it cannot be opened");
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) return "read error";
    out = ss.str();
    return {};
}

json_object::json_object(const json* j, std::string pointer, std::vector<config_error>& errors)
    : j_(j), ptr_(std::move(pointer)), errors_(&errors) {
    if (j_ != nullptr && !j_->is_object()) {
        errors_->push_back({ptr_, "must be an object, not " + type_name(*j_)});
        j_ = nullptr;
        wrong_type_ = true;
    }
}

bool json_object::has(const char* key) const { return j_ != nullptr && j_->contains(key); }

std::string json_object::at(const std::string& key) const { return ptr_ + "/" + escape_pointer_token(key); }

void json_object::error(const std::string& key, const std::string& message) const {
    errors_->push_back({key.empty() ? ptr_ : at(key), message});
}

void json_object::error_at(const std::string& pointer, const std::string& message) const {
    errors_->push_back({pointer, message});
}

const json* json_object::get(const char* key, bool required) {
    known_.insert(key);
    if (j_ == nullptr) {
        if (required && !wrong_type_) error(key, "is required");
        return nullptr;
    }
    const auto it = j_->find(key);
    if (it == j_->end()) {
        if (required) error(key, "is required");
        return nullptr;
    }
    return &*it;
}

void json_object::u32(const char* key, std::uint32_t& out, std::uint32_t lo, std::uint32_t hi, bool required) {
    const auto* v = get(key, required);
    if (v == nullptr) return;
    const auto range = "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
    if (v->is_number_float()) return error(key, range + " (got " + v->dump() + ")");
    if (!v->is_number_integer()) return error(key, range + ", not " + type_name(*v));
    const bool fits = v->is_number_unsigned() ? v->get<std::uint64_t>() >= lo && v->get<std::uint64_t>() <= hi
                                              : v->get<std::int64_t>() >= lo && v->get<std::int64_t>() <= hi;
    if (!fits) return error(key, range + " (got " + v->dump() + ")");
    out = static_cast<std::uint32_t>(v->get<std::uint64_t>());
}

void json_object::boolean(const char* key, bool& out) {
    const auto* v = get(key, false);
    if (v == nullptr) return;
    if (!v->is_boolean()) return error(key, "must be true or false, not " + type_name(*v));
    out = v->get<bool>();
}

void json_object::text(const char* key, std::string& out, bool required) {
    const auto* v = get(key, required);
    if (v == nullptr) return;
    if (!v->is_string()) return error(key, "must be a string, not " + type_name(*v));
    out = v->get<std::string>();
}

void json_object::choice(const char* key, std::string& out, std::initializer_list<const char*> options) {
    choose(key, out, std::vector<std::string_view>(options.begin(), options.end()));
}

bool json_object::choose(const char* key, std::string& out, const std::vector<std::string_view>& names) {
    std::string v = out;
    const auto before = errors_->size();
    text(key, v);
    if (errors_->size() != before) return false;
    std::string list;
    for (const auto o : names) {
        if (v == o) {
            out = v;
            return true;
        }
        list += (list.empty() ? "\"" : ", \"") + std::string(o) + "\"";
    }
    error(key, "must be one of " + list + " (got \"" + v + "\")");
    return false;
}

void json_object::path(const char* key, std::filesystem::path& out, const std::filesystem::path& base) {
    std::string v;
    const auto before = errors_->size();
    text(key, v);
    if (errors_->size() != before) return;
    // A path given as "" is a mistake, never "use the default" or "off": leave the key out.
    if (v.empty()) {
        if (has(key)) error(key, "must not be empty (leave the key out instead)");
        return;
    }
    if (v.find('\0') != std::string::npos) return error(key, "must not contain a NUL character");
    std::filesystem::path p(v);
    out = (p.is_relative() ? base / p : p).lexically_normal();
}

void json_object::file(const char* key, std::filesystem::path& out, const std::filesystem::path& base, bool required) {
    std::string v;
    const auto before = errors_->size();
    text(key, v, required);
    if (errors_->size() != before) return;
    if (v.empty()) {
        if (has(key)) error(key, required ? "must not be empty" : "must not be empty (leave the key out instead)");
        return;
    }
    std::filesystem::path p;
    path(key, p, base);
    if (errors_->size() != before) return;
    std::string content;
    if (const auto why = read_file(p, content); !why.empty())
        return error(key, "cannot read file " + p.string() + ": " + why);
    out = p;
}

void json_object::address(const char* key, endpoint& out, bool listen, bool required) {
    std::string v;
    const auto before = errors_->size();
    text(key, v, required);
    if (errors_->size() != before) return;
    if (v.empty()) {
        if (has(key)) error(key, "must be \"host:port\", not empty");
        return;
    }
    endpoint e;
    const auto problem = parse_endpoint(v, e, listen);
    if (!problem.empty()) return error(key, problem);
    out = e;
}

json_object json_object::child(const char* key) { return json_object(get(key, false), at(key), *errors_); }

const json* json_object::array(const char* key, bool required) {
    const auto* v = get(key, required);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
        error(key, "must be an array, not " + type_name(*v));
        return nullptr;
    }
    return v;
}

void json_object::finish() {
    if (j_ == nullptr) return;
    for (auto it = j_->begin(); it != j_->end(); ++it) {
        if (known_.contains(it.key())) continue;
        std::string best;
        std::size_t best_d = 3;
        for (const auto& k : known_)
            if (const auto d = edit_distance(it.key(), k); d < best_d) {
                best_d = d;
                best = k;
            }
        error(it.key(), "unknown key" + (best.empty() ? std::string() : "; did you mean '" + best + "'?"));
    }
}

}  // namespace tlsbroker::config
