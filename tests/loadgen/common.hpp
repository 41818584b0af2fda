// Shared pieces of the load generator: options, figures, JSON output, worker threads.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace loadgen {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

// --key value / --flag command line, kept as strings; typed getters with defaults.
class options {
public:
    // Throws std::invalid_argument on a malformed command line.
    options(int argc, char** argv);
    const std::string& mode() const { return mode_; }
    std::string str(const std::string& key, const std::string& def) const;
    double num(const std::string& key, double def) const;
    long long integer(const std::string& key, long long def) const;
    bool flag(const std::string& key) const;
    // Keys given but never read: reported as a usage error by main.
    std::vector<std::string> unused() const;

private:
    std::string mode_;
    std::map<std::string, std::string> values_;
    mutable std::map<std::string, bool> used_;
};

// "host:port" → endpoint; throws std::invalid_argument.
tcp::endpoint parse_endpoint(const std::string& text);

// Raises RLIMIT_NOFILE soft to hard; returns the new soft limit.
long raise_fd_limit();

// A small deterministic generator (splitmix64) for payloads and choices.
class rng {
public:
    explicit rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next();
    double uniform();  // [0, 1)
    void fill(unsigned char* p, std::size_t n);

private:
    std::uint64_t s_;
};

// Figures shared by all connections of a run; counters are atomics, failures by reason
// and latency samples go under a mutex (they are rare or batched).
class figures {
public:
    std::atomic<std::uint64_t> attempted{0}, ok{0}, failed{0}, resumed{0}, bytes{0};
    void fail(const std::string& reason);
    void count(const std::string& name, std::uint64_t n = 1);
    void latency(double ms);
    std::map<std::string, std::uint64_t> reasons() const;
    std::map<std::string, std::uint64_t> counts() const;
    // p50, p90, p99, max of the latency samples in ms (zeros when none).
    std::vector<double> percentiles() const;

private:
    mutable std::mutex m_;
    std::map<std::string, std::uint64_t> reasons_, counts_;
    std::vector<double> lat_;
};

// One JSON object, keys in insertion order.
class json_out {
public:
    void put(const std::string& key, double v);
    void put(const std::string& key, std::uint64_t v);
    void put(const std::string& key, const std::string& v);
    void put_raw(const std::string& key, const std::string& raw);
    void put_map(const std::string& key, const std::map<std::string, std::uint64_t>& m);
    std::string str() const;

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

// Adds the common figures (attempted, ok, failed, reasons, latency, counts) to `out`.
void put_figures(json_out& out, const figures& f, const std::string& latency_name);

// N threads, each running its own io_context, until stop() or all work is done.
class engine {
public:
    explicit engine(std::size_t threads);
    ~engine();
    std::size_t size() const { return ctx_.size(); }
    net::io_context& ctx(std::size_t i) { return *ctx_[i % ctx_.size()]; }
    // Runs every context on its own thread and joins them; after `max_seconds` the contexts
    // are stopped whatever is left (returns false then).
    bool run(double max_seconds);
    void stop();  // thread-safe

private:
    std::vector<std::unique_ptr<net::io_context>> ctx_;
};

// Seconds since `t`.
inline double since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// A name for an error, for the failure tables ("refused", "reset", "eof", "timeout", ...).
std::string error_name(const boost::system::error_code& ec);

}  // namespace loadgen
