// POSIX foreground mode: log to the console (and the configured file), run until SIGTERM or
// SIGINT, then drain gracefully. SIGHUP reloads the config file.
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <thread>

#include "config/loader.hpp"
#include "core/log.hpp"
#include "core/server.hpp"
#include "service/platform.hpp"
#include "version.hpp"

namespace tlsbroker::service {

namespace {

constexpr const char* default_config = "/etc/tlsbroker/tlsbroker.json";

}  // namespace

int run_platform(const options& opts) {
    log::init_console();
    const auto file = opts.config.empty() ? std::filesystem::path(default_config) : opts.config;
    const auto loaded = config::load_file(file);
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) TB_LOG_ERROR(file.string(), ": ", e.to_string());
        TB_LOG_ERROR("not started: the configuration has ", loaded.errors.size(), " problem(s)");
        return 1;
    }
    try {
        log::configure(loaded.config->log, true);
    } catch (const std::exception& e) {
        TB_LOG_ERROR("not started: log file: ", e.what());
        return 1;
    }
    // Writes to a peer that has gone must fail with EPIPE, not kill the process.
    ::signal(SIGPIPE, SIG_IGN);

    TB_LOG_INFO("tlsbroker ", TLSBROKER_VERSION, " starting with ", file.string(), " (",
                loaded.config->effective_threads(), " threads)");
    core::server srv(loaded.config);
    try {
        srv.start();
    } catch (const std::exception& e) {
        TB_LOG_ERROR("not started: ", e.what());
        return 1;
    }

    // Signals are watched on a small io_context of their own so that a busy or blocked
    // worker pool cannot delay shutdown.
    boost::asio::io_context signals_ioc;
    boost::asio::signal_set signals(signals_ioc, SIGTERM, SIGINT, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int sig) {
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
