// POSIX foreground mode: log to the console (and the configured file), run until SIGTERM or
// SIGINT, then drain gracefully. SIGHUP reloads the config file.
//
// Under systemd (Type=notify, service/systemd/tlsbroker.service) the same run also tells
// systemd where it is (sd_notify.hpp): READY=1 once every listener and the status endpoint
// are bound, RELOADING=1 / READY=1 around a SIGHUP reload, STOPPING=1 when it drains, and
// WATCHDOG=1 from its heartbeat when WatchdogSec= is set (systemd_heartbeat.hpp). Its log
// then goes to the journal with priorities (journal.hpp).
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <thread>

#include "core/common/log.hpp"
#include "core/server/server.hpp"
#include "service/platform.hpp"
#include "service/posix/journal.hpp"
#include "service/posix/sd_notify.hpp"
#include "service/posix/systemd_heartbeat.hpp"
#include "service/startup.hpp"

namespace tlsbroker::service {

namespace {

constexpr const char* default_config = "/etc/tlsbroker/tlsbroker.json";

const char* env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? "" : v;
}

}  // namespace

int run_platform(const options& opts) {
    // Signals first, before anything is bound: asio queues a signal that arrives while the
    // broker starts, and the loop below handles it once the server exists (a SIGTERM during
    // the start used to kill the process with 143 before the handler was installed).
    boost::asio::io_context signals_ioc;
    boost::asio::signal_set signals(signals_ioc, SIGTERM, SIGINT, SIGHUP);
    // Writes to a peer that has gone must fail with EPIPE, not kill the process.
    ::signal(SIGPIPE, SIG_IGN);

    const bool journal = stderr_is_journal();
    if (journal)
        log::add_sink(make_journal_sink());
    else
        log::init_console();
    // Declared before the server: the server's handlers may still send through it.
    sd_notifier notify(env_or_empty("NOTIFY_SOCKET"));

    const auto file = opts.config.empty() ? std::filesystem::path(default_config) : opts.config;
    startup_hooks hooks;
    hooks.console = !journal;
    auto started = start_broker(file, hooks);
    if (!started.server) {
        // Every failed start exits 1 here (service/README.md, "Exit codes"); the Windows service reports
        // the specific code to the SCM.
        const auto& f = started.failure;
        notify.send(status_field("not started: " + f.what));
        if (f.problems.empty()) {
            TB_LOG_ERROR("not started: ", f.what);
            return 1;
        }
        for (const auto& p : f.problems) TB_LOG_ERROR(file.string(), ": ", p);
        TB_LOG_ERROR("not started: the configuration has ", f.problems.size(), " problem(s)");
        return 1;
    }
    core::server& srv = *started.server;
    notify.count_in(srv.total_counters());
    const auto running_status = [&srv] {
        const auto n = srv.listener_endpoints().size();
        return status_field("accepting on " + std::to_string(n) + " listener" + (n == 1 ? "" : "s"));
    };
    notify.send("READY=1\n" + running_status());
    srv.on_drain_progress([&notify](std::size_t live) {
        // Also reached when the watchdog exits on an unrecoverable accept path (no signal).
        notify.send("STOPPING=1\n" + status_field("draining: " + std::to_string(live) + " connections left"));
    });

    std::unique_ptr<systemd_heartbeat> heartbeat;
    if (notify.enabled()) {
        if (const auto interval =
                watchdog_interval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid())) {
            heartbeat = std::make_unique<systemd_heartbeat>(
                signals_ioc, *interval / 2, [&srv](std::function<void()> fn) { srv.post(std::move(fn)); },
                srv.total_counters(), notify);
            heartbeat->start();
        }
    }

    // Signals are watched on a small io_context of their own so that a busy or blocked
    // worker pool cannot delay shutdown.
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                               int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            TB_LOG_INFO("SIGHUP: reloading ", file.string());
            notify.send(reloading_message(std::chrono::steady_clock::now()));
            // Logs the outcome; a bad file leaves the running config in force.
            const auto r = srv.reload(file);
            notify.send("READY=1\n" + (r.ok ? running_status()
                                            : status_field("reload of " + file.string() + " rejected (" +
                                                           std::to_string(r.errors.size()) +
                                                           " problems); the running config stays in force")));
            signals.async_wait(on_signal);
            return;
        }
        TB_LOG_INFO(sig == SIGTERM ? "SIGTERM" : "SIGINT", " received");
        notify.send("STOPPING=1\n" + status_field("draining"));
        srv.request_stop();
    };
    signals.async_wait(on_signal);
    std::thread signal_thread([&] { signals_ioc.run(); });

    const int code = srv.run();
    signals_ioc.stop();
    signal_thread.join();
    if (heartbeat) heartbeat->stop();
    log::shutdown();
    return code;
}

}  // namespace tlsbroker::service
