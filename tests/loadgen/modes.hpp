// The load generator's modes. Each fills `out` with its figures and returns the exit code
// (0, or 1 when a connection failed in a way the mode counts as an error).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>

#include "common.hpp"

namespace loadgen {

struct run_context {
    const options& opt;
    engine& eng;
    std::shared_ptr<net::ssl::context> tls;
    tcp::endpoint target;
    std::uint64_t seed = 1;
    double timeout_s = 10;  // per step (connect, handshake, round trip)
    json_out out;
};

int run_handshake(run_context& rc);
int run_hold(run_context& rc);
int run_verify(run_context& rc);
int run_throughput(run_context& rc);
int run_reset_storm(run_context& rc);
int run_slowloris(run_context& rc);
int run_stop_reading(run_context& rc);
int run_site(run_context& rc);

// Calls `start(i)` on connection i's thread at start + i / rate (rate <= 0: all at once),
// for i in [0, n). The calls of one thread come from one coroutine, in order.
void schedule_paced(engine& eng, std::size_t n, double rate,
                    std::function<void(std::size_t)> start);

// Prints a progress line to stderr every `every_s` seconds while `running` returns true.
void progress(engine& eng, double every_s, std::function<bool()> running,
              std::function<std::string()> line);

}  // namespace loadgen
