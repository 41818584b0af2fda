// Applying a new configuration to a running server without dropping anyone.
#include <boost/asio/post.hpp>

#include "config/loader.hpp"
#include "core/common/log.hpp"
#include "core/server/server_impl.hpp"

namespace tlsbroker::core {

namespace {

std::string describe(const config::listener_config& l) { return log::str(l.name, "@", l.listen.text); }

void log_config_warning(const std::string& warning) {
    log::write_event(log::event::config_warning, {{"warning", warning}}, "config: " + warning);
}

}  // namespace

reload_result server::reload(const std::filesystem::path& file) {
    const auto path = file.empty() ? current_config()->source : file;
    reload_result r;
    if (path.empty()) {
        r.errors.emplace_back("the running configuration was not read from a file; nothing to reload");
    } else {
        const auto loaded = config::load_file(path);
        for (const auto& w : loaded.warnings) log_config_warning(w.to_string());
        if (loaded.ok()) return reload(loaded.config);
        for (const auto& e : loaded.errors) r.errors.push_back(e.to_string());
    }
    auto& m = *impl_;
    m.total.add(counter::reloads_failed);
    // One Event Log event for the reload (every problem in it), one log line per problem.
    std::string problems;
    for (const auto& e : r.errors) {
        log::write(log::level::error, log::str("reload rejected: ", path.string(), ": ", e),
                   log::tags{log::event::none, {}, log::origin::detail});
        problems += (problems.empty() ? "" : "; ") + e;
    }
    log::write_event(
        log::event::reload_rejected,
        {{"source", path.string()}, {"count", log::str(r.errors.size())}, {"problems", problems}},
        log::str("reload rejected (", r.errors.size(), " problem(s)); the running configuration stays in force"));
    std::lock_guard lock(m.mu);
    m.last_reload = {{"unix_ms", unix_ms_now()}, {"ok", false}, {"errors", r.errors}};
    return r;
}

reload_result server::reload(config::config_ptr next) {
    auto& m = *impl_;
    std::lock_guard lock(m.mu);
    reload_result r;
    const auto fail = [&](const std::string& why) {
        r.errors.push_back(why);
        m.total.add(counter::reloads_failed);
        log::write_event(log::event::reload_rejected,
                         {{"source", next->source.empty() ? std::string("-") : next->source.string()},
                          {"count", "1"},
                          {"problems", why}},
                         log::str("reload rejected: ", why, "; the running configuration stays in force"));
        m.last_reload = {{"unix_ms", unix_ms_now()}, {"ok", false}, {"errors", r.errors}};
        return r;
    };
    if (m.stopping) return fail("the broker is stopping");

    // 1. Build every new listener and its TLS context; nothing running is touched yet.
    std::vector<std::shared_ptr<listener>> fresh;
    std::vector<std::shared_ptr<listener>> predecessor;  // same endpoint in the running config
    for (std::size_t i = 0; i < next->listeners.size(); ++i) {
        const auto& lc = next->listeners[i];
        std::shared_ptr<listener> old;
        for (const auto& o : m.listeners)
            if (o->cfg().listen.text == lc.listen.text && o->cfg().listen.port != 0) old = o;
        auto l = m.make_listener(next, i, old != nullptr);
        try {
            l->prepare();
        } catch (const std::exception& e) {
            return fail(e.what());
        }
        fresh.push_back(std::move(l));
        predecessor.push_back(std::move(old));
    }
    // 2. Bind the listeners on new endpoints; undo on failure.
    for (std::size_t i = 0; i < fresh.size(); ++i) {
        if (predecessor[i]) continue;
        try {
            fresh[i]->start();
        } catch (const std::exception& e) {
            for (std::size_t k = 0; k < i; ++k)
                if (!predecessor[k]) fresh[k]->stop();
            return fail(e.what());
        }
    }
    // The reload will be applied from here on: size the descriptor limit for it (a rejected
    // reload leaves the limit and /status describing the running config).
    m.fit_descriptors(*next, false);
    // 3. Hand each kept endpoint's socket to its new listener; drain what is left.
    std::string summary;
    for (std::size_t i = 0; i < fresh.size(); ++i) {
        if (!predecessor[i]) {
            summary += "added " + describe(fresh[i]->cfg()) + "; ";
            continue;
        }
        summary += "reloaded " + describe(fresh[i]->cfg()) + "; ";
        fresh[i]->claim_admission();
        predecessor[i]->hand_over([l = fresh[i]](std::intptr_t fd) {
            try {
                if (fd >= 0) return l->start_adopting(fd);
            } catch (const std::exception& e) {
                TB_LOG_ERROR("reload: ", e.what(), "; binding anew");
            }
            l->start_with_retry();  // binds anew, retrying with back-off until it can
        });
    }
    for (const auto& o : m.listeners) {
        const bool kept = std::find(predecessor.begin(), predecessor.end(), o) != predecessor.end();
        if (!kept) {
            summary += "removed " + describe(o->cfg()) + "; ";
            o->drain(std::chrono::milliseconds(o->cfg().timeouts.drain_ms));
        }
        m.retired.push_back(o);
    }
    m.prune_retired();
    if (next->threads != m.cfg->threads) summary += "threads change applies at the next start; ";
    if (next->status.listen.text != m.cfg->status.listen.text || next->status.enabled != m.cfg->status.enabled)
        summary += "status endpoint change applies at the next start; ";
    try {
        log::configure(next->log, true);
    } catch (const std::exception& e) {
        summary += std::string("log settings kept: ") + e.what() + "; ";
    }

    m.listeners = std::move(fresh);
    m.cfg = std::move(next);
    if (m.status) m.status->configure(status_access::from(m.cfg->status));  // tokens, allowed_hosts, idle timeout
    if (m.dog) m.dog->stop();
    m.dog = m.make_watchdog(*this);
    m.total.add(counter::reloads_ok);
    if (m.certs) m.certs->config_changed();
    m.last_reload = {{"unix_ms", unix_ms_now()}, {"ok", true}, {"summary", summary}};
    log::write_event(log::event::reload_applied, {{"summary", summary}}, log::str("reload applied: ", summary));
    r.ok = true;
    r.summary = summary;
    return r;
}

}  // namespace tlsbroker::core
