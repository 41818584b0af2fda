// What a run reports: counters, failures by reason, latency samples, and the JSON object
// that carries them; also the deterministic generator behind every payload.
#pragma once

#include <atomic>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace loadgen {

// A small deterministic generator (splitmix64): the same --seed gives the same payloads.
class rng {
public:
    explicit rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next();
    double uniform();  // [0, 1)
    void fill(unsigned char* p, std::size_t n);

private:
    std::uint64_t s_;
};

// Latency samples in ms and their percentiles.
class samples {
public:
    void add(double ms);
    std::size_t size() const;
    // p50, p90, p99, max (nearest rank; zeros when there are none).
    std::vector<double> percentiles() const;

private:
    mutable std::mutex m_;
    std::vector<double> v_;
};

// Figures shared by all connections of a run; counters are atomics, failures by reason
// and samples go under a mutex (they are rare or per connection).
class figures {
public:
    std::atomic<std::uint64_t> attempted{0}, ok{0}, failed{0}, resumed{0}, bytes{0};
    samples setup;  // connect + handshake of every connection that completed both
    samples other;  // the mode's own measure (time to close, whole connection, ...)
    void fail(const std::string& reason);
    void count(const std::string& name, std::uint64_t n = 1);
    std::map<std::string, std::uint64_t> reasons() const;
    std::map<std::string, std::uint64_t> counts() const;

private:
    mutable std::mutex m_;
    std::map<std::string, std::uint64_t> reasons_, counts_;
};

// One JSON object, keys in insertion order (a key put twice keeps its first place).
class json_out {
public:
    void put(const std::string& key, double v);
    void put(const std::string& key, std::uint64_t v);
    void put(const std::string& key, bool v);
    void put(const std::string& key, const std::string& v);
    void put(const std::string& key, const char* v) { put(key, std::string(v)); }
    void put_raw(const std::string& key, const std::string& raw);
    void put_map(const std::string& key, const std::map<std::string, std::uint64_t>& m);
    std::string str() const;
    // The raw JSON text of `key`'s value ("" when absent).
    std::string raw(const std::string& key) const;
    // One "key: value" per line, for people.
    std::string text() const;

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

std::string json_quote(const std::string& s);

// Adds attempted, ok, failed, failures{reason: n}, handshake_p50/p90/p99/max_ms (connect +
// handshake), `<other_name>_p50/...` when the mode took its own samples, and the counts.
void put_figures(json_out& out, const figures& f, const std::string& other_name);

// A name for an error, for the failure tables ("refused", "reset", "eof", "timeout", ...).
std::string error_name(const boost::system::error_code& ec);

}  // namespace loadgen
