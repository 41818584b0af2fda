#include "config/json_reader.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <fstream>

namespace tlsbroker::config {

namespace {

std::string type_name(const nlohmann::json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_array()) return "an array";
    return "an object";
}

bool valid_hostname(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    return std::all_of(h.begin(), h.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
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

std::string parse_endpoint(const std::string& text, endpoint& out, bool listen) {
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return "must be \"[ipv6]:port\"";
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) return "must be \"host:port\"";
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string::npos) return "an IPv6 address must be written in brackets: \"[::1]:port\"";
    }
    unsigned p = 0;
    const auto r = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || p > 65535)
        return "port must be an integer in " + std::string(listen ? "0" : "1") + "..65535";
    if (!listen && p == 0) return "port must be an integer in 1..65535";
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    if (listen) {
        if (host != "*" && ec) return "host must be an IP address or \"*\" (got \"" + host + "\")";
    } else if (ec && !valid_hostname(host)) {
        return "host must be an IP address or a DNS name (got \"" + host + "\")";
    }
    out.host = host == "*" ? "0.0.0.0" : host;
    out.port = static_cast<std::uint16_t>(p);
    out.text = text;
    return {};
}

json_object::json_object(const nlohmann::json* j, std::string pointer, std::vector<config_error>& errors)
    : j_(j), ptr_(std::move(pointer)), errors_(&errors) {
    if (j_ != nullptr && !j_->is_object()) {
        errors_->push_back({ptr_, "must be an object, not " + type_name(*j_)});
        j_ = nullptr;
        wrong_type_ = true;
    }
}

void json_object::error(const std::string& key, const std::string& message) const {
    errors_->push_back({key.empty() ? ptr_ : at(key), message});
}

const nlohmann::json* json_object::get(const char* key, bool required) {
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
    if (!v->is_number_integer()) return error(key, range + ", not " + type_name(*v));
    const auto n = v->get<std::int64_t>();
    if (n < lo || n > hi) return error(key, range + " (got " + std::to_string(n) + ")");
    out = static_cast<std::uint32_t>(n);
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
    std::string v = out;
    const auto before = errors_->size();
    text(key, v);
    if (errors_->size() != before) return;
    std::string list;
    for (const char* o : options) {
        if (v == o) {
            out = v;
            return;
        }
        list += (list.empty() ? "\"" : ", \"") + std::string(o) + "\"";
    }
    error(key, "must be one of " + list + " (got \"" + v + "\")");
}

void json_object::file(const char* key, std::filesystem::path& out, const std::filesystem::path& base, bool required) {
    std::string v;
    const auto before = errors_->size();
    text(key, v, required);
    if (errors_->size() != before || v.empty()) {
        if (errors_->size() == before && required && present() && j_->contains(key)) error(key, "must not be empty");
        return;
    }
    std::filesystem::path p(v);
    if (p.is_relative()) p = base / p;
    p = p.lexically_normal();
    std::ifstream f(p, std::ios::binary);
    if (!f) return error(key, "cannot read file " + p.string());
    out = p;
}

void json_object::address(const char* key, endpoint& out, bool listen, bool required) {
    std::string v;
    const auto before = errors_->size();
    text(key, v, required);
    if (errors_->size() != before || v.empty()) return;
    endpoint e;
    const auto problem = parse_endpoint(v, e, listen);
    if (!problem.empty()) return error(key, problem);
    out = e;
}

json_object json_object::child(const char* key) { return json_object(get(key, false), at(key), *errors_); }

const nlohmann::json* json_object::array(const char* key, bool required) {
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
        if (known_.count(it.key()) != 0) continue;
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
