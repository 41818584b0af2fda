#include "report.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace loadgen {

std::uint64_t rng::next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rng::uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }

void rng::fill(unsigned char* p, std::size_t n) {
    while (n >= 8) {
        const auto v = next();
        std::memcpy(p, &v, 8);
        p += 8;
        n -= 8;
    }
    if (n) {
        const auto v = next();
        std::memcpy(p, &v, n);
    }
}

void samples::add(double ms) {
    std::lock_guard lock(m_);
    v_.push_back(ms);
}

std::size_t samples::size() const {
    std::lock_guard lock(m_);
    return v_.size();
}

std::vector<double> samples::percentiles() const {
    std::vector<double> v;
    {
        std::lock_guard lock(m_);
        v = v_;
    }
    if (v.empty()) return {0, 0, 0, 0};
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
        return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
    };
    return {at(0.5), at(0.9), at(0.99), v.back()};
}

void figures::fail(const std::string& reason) {
    ++failed;
    std::lock_guard lock(m_);
    ++reasons_[reason];
}

void figures::count(const std::string& name, std::uint64_t n) {
    std::lock_guard lock(m_);
    counts_[name] += n;
}

std::map<std::string, std::uint64_t> figures::reasons() const {
    std::lock_guard lock(m_);
    return reasons_;
}

std::map<std::string, std::uint64_t> figures::counts() const {
    std::lock_guard lock(m_);
    return counts_;
}

void json_out::put(const std::string& key, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", std::isfinite(v) ? v : 0.0);
    put_raw(key, buf);
}

void json_out::put(const std::string& key, std::uint64_t v) { put_raw(key, std::to_string(v)); }

void json_out::put(const std::string& key, bool v) { put_raw(key, v ? "true" : "false"); }

void json_out::put(const std::string& key, const std::string& v) { put_raw(key, json_quote(v)); }

void json_out::put_raw(const std::string& key, const std::string& raw) {
    for (auto& [k, v] : items_)
        if (k == key) {
            v = raw;
            return;
        }
    items_.emplace_back(key, raw);
}

void json_out::put_map(const std::string& key, const std::map<std::string, std::uint64_t>& m) {
    json_out inner;
    for (const auto& [k, v] : m) inner.put(k, v);
    put_raw(key, inner.str());
}

std::string json_out::str() const {
    std::ostringstream os;
    os << '{';
    bool first = true;
    for (const auto& [k, v] : items_) {
        os << (first ? "" : ", ") << json_quote(k) << ": " << v;
        first = false;
    }
    os << '}';
    return os.str();
}

std::string json_out::raw(const std::string& key) const {
    for (const auto& [k, v] : items_)
        if (k == key) return v;
    return {};
}

std::string json_out::text() const {
    std::ostringstream os;
    for (const auto& [k, v] : items_) os << k << ": " << v << '\n';
    return os.str();
}

std::string json_quote(const std::string& s) {
    std::string q = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            q += '\\';
            q += c;
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            q += buf;
        } else {
            q += c;
        }
    }
    return q + "\"";
}

namespace {
void put_samples(json_out& out, const std::string& name, const samples& s) {
    if (s.size() == 0) return;
    const auto p = s.percentiles();
    out.put(name + "_p50_ms", p[0]);
    out.put(name + "_p90_ms", p[1]);
    out.put(name + "_p99_ms", p[2]);
    out.put(name + "_max_ms", p[3]);
}
}  // namespace

void put_figures(json_out& out, const figures& f, const std::string& other_name) {
    out.put("attempted", static_cast<std::uint64_t>(f.attempted));
    out.put("ok", static_cast<std::uint64_t>(f.ok));
    out.put("failed", static_cast<std::uint64_t>(f.failed));
    out.put_map("failures", f.reasons());
    put_samples(out, "handshake", f.setup);
    if (!other_name.empty()) put_samples(out, other_name, f.other);
    for (const auto& [k, v] : f.counts()) out.put(k, v);
}

std::string error_name(const boost::system::error_code& ec) {
    namespace e = boost::asio::error;
    if (ec == e::connection_refused) return "refused";
    if (ec == e::connection_reset) return "reset";
    if (ec == e::broken_pipe) return "broken_pipe";
    if (ec == e::eof) return "eof";
    if (ec == boost::asio::ssl::error::stream_truncated) return "truncated";
    if (ec == e::timed_out || ec == e::operation_aborted) return "timeout";
    if (ec == e::no_descriptors) return "no_fds";
    if (ec == e::address_in_use || ec == boost::system::errc::address_not_available) return "no_ports";
    if (ec.category() == boost::asio::error::get_ssl_category()) {
        const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
        if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) return "tls_verify";
        return "tls";
    }
    return "other";
}

}  // namespace loadgen
