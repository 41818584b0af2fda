// The load generator's modes and what they share. Each mode fills `out` with its figures
// and returns the exit code (0, or 1 when something it counts as an error happened).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "engine.hpp"
#include "options.hpp"
#include "report.hpp"
#include "tls_conn.hpp"

namespace loadgen {

struct run_context {
    run_context(const options& o, engine& e, std::shared_ptr<net::ssl::context> t, tcp::endpoint to)
        : opt(o), eng(e), tls(std::move(t)), target(to) {}
    const options& opt;
    engine& eng;
    std::shared_ptr<net::ssl::context> tls;
    tcp::endpoint target;
    std::string sni = "localhost";  // sent in the ClientHello; "" sends none
    bool check_name = false;        // with --ca: the certificate must match `sni`
    std::uint64_t seed = 1;
    double timeout_s = 10;  // per step (connect, handshake, round trip)
    double deadline_s = 0;  // the whole run; 0: the larger of 60 s and the mode's own length
    int proxy_header = 0;   // 1 or 2: each connection starts with a PROXY v1/v2 header (a balancer)
    json_out out;
};

int run_handshake(run_context& rc);
int run_hold(run_context& rc);
int run_verify(run_context& rc);
int run_throughput(run_context& rc);
int run_reqresp(run_context& rc);
int run_reset_storm(run_context& rc);
int run_slowloris(run_context& rc);
int run_stop_reading(run_context& rc);
int run_site(run_context& rc);
int run_selftest(run_context& rc);

// TCP connect and TLS handshake with the run's target, SNI and session to resume; the time
// both took goes to f.setup. Returns "" or the failure reason ("handshake_timeout", ...).
net::awaitable<std::string> open_tls(run_context& rc, tls_conn& c, figures& f, SSL_SESSION* resume = nullptr);

// Runs the engine for at most the mode's `natural_s` seconds, or --deadline when given;
// puts "deadline_s" and "deadline_hit" in the report. Returns false when the deadline cut
// the run short (the mode counts that as an error).
bool run_engine(run_context& rc, double natural_s);

// Calls `start(i)` on connection i's thread at start + i / rate (rate <= 0: all at once),
// for i in [0, n). The calls of one thread come from one coroutine, in order; once
// `stopped` (when given) returns true, no more calls are made.
void schedule_paced(engine& eng, std::size_t n, double rate, std::function<void(std::size_t)> start,
                    std::function<bool()> stopped = {});

// Prints a progress line to stderr every `every_s` seconds while `running` returns true.
void progress(engine& eng, double every_s, std::function<bool()> running, std::function<std::string()> line);

// A random payload of `n` bytes, the same for the same (seed, stream).
std::string payload(std::uint64_t seed, std::uint64_t stream, std::size_t n);

}  // namespace loadgen
