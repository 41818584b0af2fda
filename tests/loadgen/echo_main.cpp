// tlsbroker-echo: a plain TCP echo backend for tests, demos and benchmarks.
//   tlsbroker-echo --listen 127.0.0.1:0 [--threads 2] [--proxy-protocol]
//                  [--max-connections N] [--header-timeout 10]
//   tlsbroker-echo --selftest
// The first line on stdout is "listening on HOST:PORT"; with --proxy-protocol one JSON line
// per connection follows (see proxy_header.hpp). SIGINT/SIGTERM stop it.
#include <sys/resource.h>

#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <mutex>
#include <string>

#include "echo_selftest.hpp"
#include "echo_server.hpp"

namespace {

int usage(const std::string& why) {
    std::fprintf(stderr,
                 "tlsbroker-echo: %s\n"
                 "usage: tlsbroker-echo --listen HOST:PORT [--threads N] [--proxy-protocol]\n"
                 "                      [--max-connections N] [--header-timeout S]\n"
                 "       tlsbroker-echo --selftest\n",
                 why.c_str());
    return 2;
}

void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace

int main(int argc, char** argv) {
    echo::config cfg;
    std::string listen;
    bool selftest = false;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            const bool has_value = i + 1 < argc;
            if (a == "--listen" && has_value) {
                listen = argv[++i];
            } else if (a == "--threads" && has_value) {
                cfg.threads = static_cast<unsigned>(std::max(1, std::stoi(argv[++i])));
            } else if (a == "--max-connections" && has_value) {
                cfg.max_connections = std::stoul(argv[++i]);
            } else if (a == "--header-timeout" && has_value) {
                cfg.header_timeout_s = std::stod(argv[++i]);
            } else if (a == "--proxy-protocol") {
                cfg.proxy = true;
            } else if (a == "--selftest") {
                selftest = true;
            } else {
                return usage("unexpected argument: " + a);
            }
        }
    } catch (const std::exception&) {
        return usage("bad number");
    }
    raise_fd_limit();
    if (selftest) return echo::run_selftest();
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return usage("--listen HOST:PORT is required");
    try {
        auto host = listen.substr(0, colon);
        if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
        if (host == "localhost") host = "127.0.0.1";
        cfg.listen = {echo::net::ip::make_address(host),
                      static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)))};
        std::mutex out;
        cfg.report = [&out](const std::string& line) {
            std::lock_guard lock(out);
            std::fprintf(stdout, "%s\n", line.c_str());
            std::fflush(stdout);
        };
        echo::server srv(cfg);
        const auto ep = srv.local();
        std::printf("listening on %s:%u\n", ep.address().to_string().c_str(), ep.port());
        std::fflush(stdout);
        echo::net::io_context sig_ctx(1);
        echo::net::signal_set signals(sig_ctx, SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code, int) { srv.stop(); });
        std::thread sig_thread([&] { sig_ctx.run(); });
        srv.run();
        sig_ctx.stop();
        sig_thread.join();
        const auto& c = srv.counters();
        std::fprintf(stderr, "tlsbroker-echo: accepted %llu, proxy header errors %llu\n",
                     static_cast<unsigned long long>(c.accepted.load()),
                     static_cast<unsigned long long>(c.proxy_errors.load()));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tlsbroker-echo: %s\n", e.what());
        return 1;
    }
    return 0;
}
