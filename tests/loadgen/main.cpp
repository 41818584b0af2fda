// tlsbroker-loadgen: TLS load for benchmarks and soak runs. One JSON object with every
// figure at the end (--json), progress on stderr; exit 0, 1 when connections failed, 2 on
// a usage error. Every run is bounded in time.
#include <cstdio>
#include <exception>
#include <map>

#include "modes.hpp"
#include "tls_conn.hpp"

namespace {

const char* const usage_text = R"(usage: tlsbroker-loadgen MODE --target HOST:PORT [options]
modes:
  handshake     --concurrency 16 --duration 10 [--resume]      handshakes/s (resumed with --resume)
  hold          --connections 1000 --rate 1000 --hold 10 [--ready-file F]
                                                               open, one round trip each, hold, close
  throughput    --concurrency 8 --duration 10 [--max-mbps M]   echo relay MB/s, every byte verified
  verify        --connections 200 --concurrency 16 --payload 65536
  reset-storm   --connections 10000 --rate 500 --reset-fraction 0.5 --payload 512
  slowloris     --connections 100 --duration 30               silent and half-ClientHello clients
  stop-reading  --connections 10 --duration 30                clients that send but never read
  site          --clients 2025 --rate 10 --duration 1800 --interval 3 --lifetime 300
                --stop-reading-fraction 0.10 --vanish-fraction 0.05   long-lived clients with churn
common: --threads 2 --seed 1 --timeout 10 (seconds per step) --json
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace loadgen;
    try {
        options opt(argc, argv);
        if (opt.mode() == "--help" || opt.mode() == "help") {
            std::fputs(usage_text, stdout);
            return 0;
        }
        using mode_fn = int (*)(run_context&);
        const std::map<std::string, mode_fn> modes = {
            {"handshake", run_handshake},       {"hold", run_hold},
            {"throughput", run_throughput},     {"verify", run_verify},
            {"reset-storm", run_reset_storm},   {"slowloris", run_slowloris},
            {"stop-reading", run_stop_reading}, {"site", run_site},
        };
        const auto mode = modes.find(opt.mode());
        if (mode == modes.end()) throw std::invalid_argument("unknown mode: " + opt.mode());
        const long fds = raise_fd_limit();
        engine eng(static_cast<std::size_t>(opt.integer("threads", 2)));
        run_context rc{
            opt, eng, make_client_context(), parse_endpoint(opt.str("target", "127.0.0.1:8443")), 1,
            10,  {}};
        rc.seed = static_cast<std::uint64_t>(opt.integer("seed", 1));
        rc.timeout_s = opt.num("timeout", 10);
        const bool json = opt.flag("json");
        rc.out.put("mode", opt.mode());
        rc.out.put("target",
                   rc.target.address().to_string() + ":" + std::to_string(rc.target.port()));
        rc.out.put("seed", rc.seed);
        rc.out.put("fd_limit", static_cast<std::uint64_t>(fds < 0 ? 0 : fds));
        // Every option must be read before the mode runs, so check for strays afterwards
        // only as a warning; a typo shows up in the report instead of silently doing nothing.
        const int rc_code = mode->second(rc);
        for (const auto& k : opt.unused())
            std::fprintf(stderr, "warning: option --%s was not used\n", k.c_str());
        rc.out.put("exit_code", static_cast<std::uint64_t>(rc_code));
        if (json) {
            std::printf("%s\n", rc.out.str().c_str());
        } else {
            std::string s = rc.out.str();
            for (std::size_t p = 0; (p = s.find(", \"", p)) != std::string::npos; p += 2)
                s.replace(p, 2, ",\n ");
            std::printf("%s\n", s.c_str());
        }
        return rc_code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tlsbroker-loadgen: %s\n%s", e.what(), usage_text);
        return 2;
    }
}
