#include "common.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace loadgen {

options::options(int argc, char** argv) {
    if (argc < 2) throw std::invalid_argument("no mode given");
    mode_ = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument: " + a);
        a = a.substr(2);
        if (const auto eq = a.find('='); eq != std::string::npos) {
            values_[a.substr(0, eq)] = a.substr(eq + 1);
        } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
            values_[a] = argv[++i];
        } else {
            values_[a] = "";
        }
    }
}

std::string options::str(const std::string& key, const std::string& def) const {
    used_[key] = true;
    const auto it = values_.find(key);
    return it == values_.end() ? def : it->second;
}

double options::num(const std::string& key, double def) const {
    const auto v = str(key, "");
    if (v.empty()) return def;
    std::size_t used = 0;
    const double d = std::stod(v, &used);
    if (used != v.size()) throw std::invalid_argument("--" + key + ": not a number: " + v);
    return d;
}

long long options::integer(const std::string& key, long long def) const {
    return static_cast<long long>(num(key, static_cast<double>(def)));
}

bool options::flag(const std::string& key) const {
    used_[key] = true;
    return values_.count(key) != 0;
}

std::vector<std::string> options::unused() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : values_)
        if (!used_.count(k)) out.push_back(k);
    return out;
}

tcp::endpoint parse_endpoint(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("expected host:port, got " + text);
    auto host = text.substr(0, colon);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code ec;
    const auto addr = net::ip::make_address(host, ec);
    if (ec) throw std::invalid_argument("bad address: " + host);
    return {addr, static_cast<unsigned short>(std::stoi(text.substr(colon + 1)))};
}

long raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<long>(rl.rlim_cur);
}

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

void figures::fail(const std::string& reason) {
    ++failed;
    std::lock_guard lock(m_);
    ++reasons_[reason];
}

void figures::count(const std::string& name, std::uint64_t n) {
    std::lock_guard lock(m_);
    counts_[name] += n;
}

void figures::latency(double ms) {
    std::lock_guard lock(m_);
    lat_.push_back(ms);
}

std::map<std::string, std::uint64_t> figures::reasons() const {
    std::lock_guard lock(m_);
    return reasons_;
}

std::map<std::string, std::uint64_t> figures::counts() const {
    std::lock_guard lock(m_);
    return counts_;
}

std::vector<double> figures::percentiles() const {
    std::vector<double> v;
    {
        std::lock_guard lock(m_);
        v = lat_;
    }
    if (v.empty()) return {0, 0, 0, 0};
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
    };
    return {at(0.5), at(0.9), at(0.99), v.back()};
}

void json_out::put(const std::string& key, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    items_.emplace_back(key, buf);
}

void json_out::put(const std::string& key, std::uint64_t v) {
    items_.emplace_back(key, std::to_string(v));
}

void json_out::put(const std::string& key, const std::string& v) {
    std::string q = "\"";
    for (const char c : v) {
        if (c == '"' || c == '\\') q += '\\';
        if (static_cast<unsigned char>(c) >= 0x20) q += c;
    }
    items_.emplace_back(key, q + "\"");
}

void json_out::put_raw(const std::string& key, const std::string& raw) {
    items_.emplace_back(key, raw);
}

void json_out::put_map(const std::string& key, const std::map<std::string, std::uint64_t>& m) {
    json_out inner;
    for (const auto& [k, v] : m) inner.put(k, v);
    items_.emplace_back(key, inner.str());
}

std::string json_out::str() const {
    std::ostringstream os;
    os << '{';
    bool first = true;
    for (const auto& [k, v] : items_) {
        os << (first ? "" : ", ") << '"' << k << "\": " << v;
        first = false;
    }
    os << '}';
    return os.str();
}

void put_figures(json_out& out, const figures& f, const std::string& latency_name) {
    out.put("attempted", static_cast<std::uint64_t>(f.attempted));
    out.put("ok", static_cast<std::uint64_t>(f.ok));
    out.put("failed", static_cast<std::uint64_t>(f.failed));
    out.put_map("failures", f.reasons());
    const auto p = f.percentiles();
    if (p[3] > 0) {
        out.put(latency_name + "_p50_ms", p[0]);
        out.put(latency_name + "_p90_ms", p[1]);
        out.put(latency_name + "_p99_ms", p[2]);
        out.put(latency_name + "_max_ms", p[3]);
    }
    for (const auto& [k, v] : f.counts()) out.put(k, v);
}

engine::engine(std::size_t threads) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
        ctx_.push_back(std::make_unique<net::io_context>(1));
}

engine::~engine() = default;

bool engine::run(double max_seconds) {
    std::mutex m;
    std::condition_variable cv;
    std::size_t running = ctx_.size();
    std::vector<std::thread> threads;
    for (auto& c : ctx_)
        threads.emplace_back([&, ctx = c.get()] {
            ctx->run();
            std::lock_guard lock(m);
            --running;
            cv.notify_all();
        });
    bool in_time = true;
    {
        std::unique_lock lock(m);
        const auto deadline = clock_type::now() + std::chrono::duration<double>(max_seconds);
        if (!cv.wait_until(lock, deadline, [&] { return running == 0; })) in_time = false;
    }
    if (!in_time) stop();
    for (auto& t : threads) t.join();
    return in_time;
}

void engine::stop() {
    for (auto& c : ctx_) c->stop();
}

std::string error_name(const boost::system::error_code& ec) {
    namespace e = net::error;
    if (ec == e::connection_refused) return "refused";
    if (ec == e::connection_reset) return "reset";
    if (ec == e::broken_pipe) return "broken_pipe";
    if (ec == e::eof) return "eof";
    if (ec == net::ssl::error::stream_truncated) return "truncated";
    if (ec == e::timed_out || ec == e::operation_aborted) return "timeout";
    if (ec == e::no_descriptors) return "no_fds";
    if (ec == e::address_in_use || ec == boost::system::errc::address_not_available)
        return "no_ports";
    if (ec.category() == net::error::get_ssl_category()) return "tls";
    return "other";
}

}  // namespace loadgen
