// POSIX foreground mode: log to the console (and the configured file), run until SIGTERM or
// SIGINT, then drain gracefully. SIGHUP reloads the config file.
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <thread>

#include "core/common/log.hpp"
#include "core/server/server.hpp"
#include "service/platform.hpp"
#include "service/startup.hpp"

namespace tlsbroker::service {

namespace {

constexpr const char* default_config = "/etc/tlsbroker/tlsbroker.json";

}  // namespace

int run_platform(const options& opts) {
    // Signals first, before anything is bound: asio queues a signal that arrives while the
    // broker starts, and the loop below handles it once the server exists (a SIGTERM during
    // the start used to kill the process with 143 before the handler was installed).
    boost::asio::io_context signals_ioc;
    boost::asio::signal_set signals(signals_ioc, SIGTERM, SIGINT, SIGHUP);
    // Writes to a peer that has gone must fail with EPIPE, not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    log::init_console();
    const auto file = opts.config.empty() ? std::filesystem::path(default_config) : opts.config;
    auto started = start_broker(file);
    if (!started.server) {
        // Every failed start exits 1 here (README, "Exit codes"); the Windows service reports
        // the specific code to the SCM.
        const auto& f = started.failure;
        if (f.problems.empty()) {
            TB_LOG_ERROR("not started: ", f.what);
            return 1;
        }
        for (const auto& p : f.problems) TB_LOG_ERROR(file.string(), ": ", p);
        TB_LOG_ERROR("not started: the configuration has ", f.problems.size(), " problem(s)");
        return 1;
    }
    core::server& srv = *started.server;

    // Signals are watched on a small io_context of their own so that a busy or blocked
    // worker pool cannot delay shutdown.
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                               int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            TB_LOG_INFO("SIGHUP: reloading ", file.string());
            srv.reload(file);  // logs the outcome; a bad file leaves the running config in force
            signals.async_wait(on_signal);
            return;
        }
        TB_LOG_INFO(sig == SIGTERM ? "SIGTERM" : "SIGINT", " received");
        srv.request_stop();
    };
    signals.async_wait(on_signal);
    std::thread signal_thread([&] { signals_ioc.run(); });

    const int code = srv.run();
    signals_ioc.stop();
    signal_thread.join();
    log::shutdown();
    return code;
}

}  // namespace tlsbroker::service
