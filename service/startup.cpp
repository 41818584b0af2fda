#include "service/startup.hpp"

#include "config/loader.hpp"
#include "core/common/exit_codes.hpp"
#include "core/common/log.hpp"
#include "version.hpp"

namespace tlsbroker::service {

startup start_broker(const std::filesystem::path& file, const startup_hooks& hooks) {
    startup out;
    const auto loaded = config::load_file(file);
    if (!loaded.ok()) {
        std::string all;
        for (const auto& e : loaded.errors) {
            out.failure.problems.push_back(e.to_string());
            all += (all.empty() ? " " : "; ") + e.to_string();
        }
        out.failure.code = exit_code::config_invalid;
        out.failure.what = "configuration " + file.string() + " is invalid:" + all;
        return out;
    }
    if (hooks.check_config) {
        if (auto refused = hooks.check_config(file, *loaded.config)) {
            out.failure = std::move(*refused);
            return out;
        }
    }
    try {
        log::configure(loaded.config->log, hooks.console);
    } catch (const std::exception& e) {
        out.failure = {exit_code::log_failed, std::string("log file: ") + e.what(), {}};
        return out;
    }
    if (hooks.log_opened) hooks.log_opened();
    TB_LOG_INFO("tlsbroker ", TLSBROKER_VERSION, " starting with ", file.string(), " (",
                loaded.config->effective_threads(), " threads)");
    for (const auto& w : loaded.warnings) {
        const auto text = w.to_string();
        log::write_event(log::event::config_warning, {{"warning", text}}, "config: " + text);
    }
    if (hooks.before_server) hooks.before_server(*loaded.config);
    auto srv = std::make_unique<core::server>(loaded.config);
    try {
        srv->start();
    } catch (const std::exception& e) {
        out.failure = {exit_code::start_failed, e.what(), {}};
        return out;
    }
    out.server = std::move(srv);
    return out;
}

}  // namespace tlsbroker::service
