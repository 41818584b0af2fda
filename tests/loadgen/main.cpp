// tlsbroker-loadgen: TLS load for benchmarks, soak runs and demos. One JSON object with
// every figure at the end (--json; without it one "key: value" per line), progress on
// stderr. Exit 0 when nothing failed, 1 when something did, 2 on a usage error. Every run
// is bounded in time (--deadline, and --timeout per step).
#include <cstdio>
#include <exception>
#include <map>

#include "modes.hpp"

namespace {

const char* const usage_text =
    R"(usage: tlsbroker-loadgen [--mode] MODE --target HOST:PORT [options]
modes:
  handshake     --concurrency 16 --duration 10 [--resume]      handshakes/s (resumed with --resume)
  hold          --connections 1000 --rate 1000 --payload 64 --hold 10 [--ready-file F]
                                                               open, one round trip each, hold
                                                               (SIGTERM ends the hold), close
  throughput    --concurrency 8 (--duration 10 | --bytes 1G) [--max-mbps M] [--chunk 16k]
                                                               echo relay MB/s, every byte verified
  reqresp       --concurrency 4 --size 16k --duration 10       request/response: write, read the echo
                                                               back, repeat; round trips/s, latency
  verify        --concurrency 16 [--connections C] --payload 64k   random payloads echoed, compared
  reset-storm   --connections 10000 --rate 500 --reset-fraction 0.5 --payload 512
                                                               RST right after connect, mixed with
                                                               real clients doing a round trip
  slowloris     --connections 100 --duration 30 [--half-hello] [--rate R]
                                                               time until the server closes them
  stop-reading  --connections 10 --duration 30                 clients that send but never read
  site          --clients 2025 --rate 10 --duration 1800 --interval 3 --lifetime 300
                --stop-reading-fraction 0.10 --vanish-fraction 0.05   long-lived clients, churn
  selftest      [--duration 2]                                 in-process TLS echo server (fresh
                                                               certificate); handshake, resume,
                                                               verify, throughput, hold: no errors
common: --target 127.0.0.1:8443  --sni localhost ("" for none)  --ca FILE | --insecure (default)
        --seed 1  --threads 2  --timeout 10 (s per step)  --deadline S (whole run; default the
        larger of 60 s and what the mode's own durations need)  --json
        --proxy-header 1|2 (each connection first sends a PROXY v1/v2 header naming itself,
        as a balancer would; for a listener with accept_proxy)
sizes take k/m/g suffixes (powers of 1024).
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace loadgen;
    try {
        options opt(argc, argv);
        if (opt.mode() == "help" || opt.flag("help")) {
            std::fputs(usage_text, stdout);
            return 0;
        }
        using mode_fn = int (*)(run_context&);
        const std::map<std::string, mode_fn> modes = {
            {"handshake", run_handshake},
            {"hold", run_hold},
            {"throughput", run_throughput},
            {"verify", run_verify},
            {"reqresp", run_reqresp},
            {"reset-storm", run_reset_storm},
            {"slowloris", run_slowloris},
            {"stop-reading", run_stop_reading},
            {"site", run_site},
            {"selftest", run_selftest},
        };
        const auto mode = modes.find(opt.mode());
        if (mode == modes.end()) throw std::invalid_argument("unknown mode: " + opt.mode());
        const std::string ca = opt.str("ca", "");
        const bool insecure = opt.flag("insecure");
        if (!ca.empty() && insecure) throw std::invalid_argument("--ca and --insecure exclude each other");
        const long fds = raise_fd_limit();
        engine eng(static_cast<std::size_t>(std::max(1LL, opt.integer("threads", 2))));
        run_context rc(opt, eng, make_client_context(ca), parse_endpoint(opt.str("target", "127.0.0.1:8443")));
        rc.sni = opt.str("sni", "localhost");
        rc.check_name = !ca.empty();
        rc.seed = static_cast<std::uint64_t>(opt.integer("seed", 1));
        rc.timeout_s = opt.num("timeout", 10);
        rc.deadline_s = opt.num("deadline", 0);
        rc.proxy_header = static_cast<int>(opt.integer("proxy-header", 0));
        if (rc.proxy_header != 0 && rc.proxy_header != 1 && rc.proxy_header != 2)
            throw std::invalid_argument("--proxy-header must be 1 or 2");
        const bool json = opt.flag("json");
        rc.out.put("mode", opt.mode());
        rc.out.put("target", rc.target.address().to_string() + ":" + std::to_string(rc.target.port()));
        rc.out.put("sni", rc.sni);
        rc.out.put("verify", ca.empty() ? "none" : "ca");
        rc.out.put("seed", rc.seed);
        rc.out.put("fd_limit", static_cast<std::uint64_t>(fds < 0 ? 0 : fds));
        const int code = mode->second(rc);
        // A typo shows up as a warning instead of silently doing nothing.
        for (const auto& k : opt.unused())
            std::fprintf(stderr, "warning: option --%s was not used by mode %s\n", k.c_str(), opt.mode().c_str());
        rc.out.put("exit_code", static_cast<std::uint64_t>(code));
        std::fputs(json ? (rc.out.str() + "\n").c_str() : rc.out.text().c_str(), stdout);
        std::fflush(stdout);
        return code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tlsbroker-loadgen: %s\n%s", e.what(), usage_text);
        return 2;
    }
}
