// Windows: the SCM service "tlsbroker" ("TLS Broker"), or the console when not started by
// the SCM (or with --console). Both drive the same core::server as the POSIX foreground.
//
// SCM protocol: START_PENDING with a new checkpoint after each real step (config read and
// its files checked, log opened, listeners bound), each with a wait hint bounding the next
// step, then RUNNING; a hung step shows as a checkpoint that stops moving. A config, file
// ACL or bind failure → STOPPED with a service-specific exit code and an Event Log error.
// STOP / PRESHUTDOWN / SHUTDOWN → STOP_PENDING with checkpoints while draining, then STOPPED.
// PARAMCHANGE → reload the config on the reload thread (the handler returns at once).
#include <windows.h>
#include <shlobj.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>

#include "core/common/log.hpp"
#include "core/server/server.hpp"
#include "service/platform.hpp"
#include "service/startup.hpp"
#include "service/windows/event_log.hpp"
#include "service/windows/exit_codes.hpp"
#include "service/windows/perf_provider.hpp"
#include "service/windows/reload_worker.hpp"
#include "service/windows/service_config.hpp"
#include "service/windows/start_check.hpp"
#include "version.hpp"

namespace tlsbroker::service {

namespace {

wchar_t service_name[] = L"tlsbroker";

struct service_state {
    SERVICE_STATUS_HANDLE handle = nullptr;
    SERVICE_STATUS status{};
    std::mutex mu;
    core::server* srv = nullptr;
    reload_worker* reloader = nullptr;
    options opts;
} g;

void report(DWORD state, DWORD win32_exit = NO_ERROR, DWORD specific = 0, DWORD wait_hint_ms = 0) {
    std::lock_guard lock(g.mu);
    g.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    g.status.dwCurrentState = state;
    g.status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_PRESHUTDOWN |
                                                                 SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE
                                                           : 0;
    g.status.dwWin32ExitCode = specific != 0 ? ERROR_SERVICE_SPECIFIC_ERROR : win32_exit;
    g.status.dwServiceSpecificExitCode = specific;
    g.status.dwWaitHint = wait_hint_ms;
    const bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
    g.status.dwCheckPoint = pending ? g.status.dwCheckPoint + 1 : 0;
    if (g.handle != nullptr) SetServiceStatus(g.handle, &g.status);
}

// %ProgramData%, as the installer's CommonAppDataFolder sees it (the environment variable
// is not always set for services).
std::filesystem::path default_config_path() {
    wchar_t buf[MAX_PATH] = {0};
    const std::filesystem::path base = SUCCEEDED(SHGetFolderPathW(nullptr, CSIDL_COMMON_APPDATA, nullptr, 0, buf))
                                           ? std::filesystem::path(buf)
                                           : std::filesystem::path("C:\\ProgramData");
    return base / "tlsbroker" / "tlsbroker.json";
}

// Wait hints (ms) for the start steps: each bounds the step that follows a checkpoint.
constexpr DWORD hint_read_config = 10000;
constexpr DWORD hint_open_log = 10000;
constexpr DWORD hint_bind = 30000;

// Reports a start step done; the wait hint bounds the next one (service mode only).
void start_progress(bool console, DWORD next_hint_ms) {
    if (!console) report(SERVICE_START_PENDING, NO_ERROR, 0, next_hint_ms);
}

// The shared start-up sequence (service/startup.hpp) with what only Windows adds: as a
// service, a config, key or folder that a non-admin may change is refused before it is
// used; START_PENDING checkpoints; the Event Log; the preshutdown timeout check.
startup start_windows_broker(const std::filesystem::path& file, bool console) {
    auto check = std::make_shared<file_check>();
    startup_hooks hooks;
    hooks.console = console;
    hooks.check_config = [console, check](const std::filesystem::path& f,
                                          const config::broker_config& cfg) -> std::optional<startup_failure> {
        if (!console) {
            *check = check_config_files(f, cfg);
            if (check->refused) return startup_failure{static_cast<int>(exit_code::config_insecure), check->reason, {}};
        }
        start_progress(console, hint_open_log);
        return std::nullopt;
    };
    hooks.log_opened = [console, check] {
        if (!console) enable_event_log();
        start_progress(console, hint_bind);
        if (check->skipped) TB_LOG_INFO("file ACL check skipped: this system (Wine) keeps no file ACLs");
        for (const auto& w : check->warnings) log::write_event(log::event::acl_warning, {{"warning", w}}, w);
    };
    hooks.before_server = [console](const config::broker_config& cfg) {
        if (console) return;
        const auto preshutdown = preshutdown_timeout_ms();
        const auto need = longest_drain_ms(cfg) + preshutdown_margin_ms;
        if (preshutdown && *preshutdown < need)
            TB_LOG_WARN("the preshutdown timeout (", *preshutdown, " ms) is shorter than timeouts.drain_ms + ",
                        preshutdown_margin_ms, " ms (", need,
                        " ms): connections may be cut at system shutdown; run tlsbroker.exe --configure-service "
                        "on the config folder");
    };
    return start_broker(file, hooks);
}

DWORD WINAPI control_handler(DWORD control, DWORD, LPVOID, LPVOID) {
    switch (control) {
        case SERVICE_CONTROL_STOP:
        case SERVICE_CONTROL_PRESHUTDOWN:
        case SERVICE_CONTROL_SHUTDOWN: {
            report(SERVICE_STOP_PENDING, NO_ERROR, 0, 5000);
            TB_LOG_INFO(control == SERVICE_CONTROL_STOP ? "service stop requested" : "system shutdown: draining");
            std::lock_guard lock(g.mu);
            if (g.srv != nullptr) g.srv->request_stop();
            return NO_ERROR;
        }
        case SERVICE_CONTROL_PARAMCHANGE: {
            TB_LOG_INFO("PARAMCHANGE: reloading the configuration");
            std::lock_guard lock(g.mu);
            if (g.reloader != nullptr) g.reloader->request();
            return NO_ERROR;
        }
        case SERVICE_CONTROL_INTERROGATE:
            return NO_ERROR;
        default:
            return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

void WINAPI service_main(DWORD, LPWSTR*) {
    g.handle = RegisterServiceCtrlHandlerExW(service_name, control_handler, nullptr);
    if (g.handle == nullptr) return;
    report(SERVICE_START_PENDING, NO_ERROR, 0, hint_read_config);
    log::init_console(log::level::info);
    enable_event_log();
    const auto file = g.opts.config.empty() ? default_config_path() : g.opts.config;
    auto started = start_windows_broker(file, false);
    auto& srv = started.server;
    if (!srv) {
        const auto& failure = started.failure;
        const auto code = static_cast<unsigned long>(failure.code);
        if (code == exit_code::config_invalid || code == exit_code::config_insecure) {
            // No usable log settings: write where the default config would put its log.
            config::log_config fallback;
            fallback.file = file.parent_path() / "tlsbroker.log";
            try {
                log::configure(fallback, false);
            } catch (const std::exception&) {
                // The Event Log still gets the line below.
            }
        }
        log::write_event(log::event::service_start_failed,
                         {{"exit_code", log::str(failure.code)}, {"reason", failure.what}},
                         log::str("service not started (exit code ", failure.code, "): ", failure.what));
        log::shutdown();
        report(SERVICE_STOPPED, NO_ERROR, static_cast<DWORD>(failure.code));
        return;
    }
    perf_provider perf;
    perf.start(*srv);
    srv->on_drain_progress([](std::size_t live) {
        TB_LOG_INFO("draining: ", live, " connections left");
        report(SERVICE_STOP_PENDING, NO_ERROR, 0, 5000);
    });
    core::server* raw = srv.get();
    auto reloader = std::make_unique<reload_worker>([raw] { raw->reload(); });
    {
        std::lock_guard lock(g.mu);
        g.srv = srv.get();
        g.reloader = reloader.get();
    }
    report(SERVICE_RUNNING);  // every listener is bound and accepting
    log::write_event(log::event::service_started, {{"version", TLSBROKER_VERSION}, {"config", file.string()}},
                     "service running");
    const int code = srv->run();
    {
        std::lock_guard lock(g.mu);
        g.srv = nullptr;
        g.reloader = nullptr;
    }
    // The reload thread is joined before the server is freed: a reload under way finishes on
    // a live server, one still pending is dropped, and no new one can be requested (the
    // handler sees g.reloader null, under g.mu).
    reloader.reset();
    perf.stop();
    log::write_event(log::event::service_stopped, {{"exit_code", log::str(code)}},
                     log::str("service stopped (exit code ", code, ")"));
    srv.reset();
    log::shutdown();
    report(SERVICE_STOPPED, NO_ERROR, code == 0 ? 0 : exit_code::unrecoverable);
}

core::server* console_server = nullptr;

BOOL WINAPI console_handler(DWORD type) {
    if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT) {
        TB_LOG_INFO("console stop requested");
        if (console_server != nullptr) console_server->request_stop();
        return TRUE;
    }
    return FALSE;
}

int run_console(const options& opts) {
    log::init_console(log::level::info);
    const auto file = opts.config.empty() ? default_config_path() : opts.config;
    auto started = start_windows_broker(file, true);
    auto& srv = started.server;
    if (!srv) {
        TB_LOG_ERROR("not started: ", started.failure.what);
        return 1;
    }
    perf_provider perf;
    perf.start(*srv);
    console_server = srv.get();
    SetConsoleCtrlHandler(console_handler, TRUE);
    const int code = srv->run();
    console_server = nullptr;
    perf.stop();
    log::shutdown();
    return code;
}

}  // namespace

int run_platform(const options& opts) {
    if (opts.console) return run_console(opts);
    g.opts = opts;
    SERVICE_TABLE_ENTRYW table[] = {{service_name, service_main}, {nullptr, nullptr}};
    if (StartServiceCtrlDispatcherW(table)) return 0;
    if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) return run_console(opts);  // not started by the SCM
    std::cerr << "tlsbroker: cannot connect to the service control manager (error " << GetLastError() << ")\n";
    return 1;
}

}  // namespace tlsbroker::service
