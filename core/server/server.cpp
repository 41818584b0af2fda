#include "core/server/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/common/descriptor_budget.hpp"
#include "core/common/exit_codes.hpp"
#include "core/common/log.hpp"
#include "core/server/io_report.hpp"
#include "core/server/server_impl.hpp"
#include "core/status/status_page.hpp"
#include "core/tls/key_sign_failures.hpp"
#include "core/tls/tls_context.hpp"
#include "version.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

server::impl::impl(config::config_ptr c)
    : loops(c->effective_threads()), ioc(loops.control()), cfg(std::move(c)), started_ms(unix_ms_now()) {}

counter_block& server::impl::block_for(const std::string& name) {
    auto& b = blocks[name];
    if (!b) b = std::make_unique<counter_block>();
    return *b;
}

histogram_block& server::impl::histograms_for(const std::string& name) {
    auto& b = histograms[name];
    if (!b) b = std::make_unique<histogram_block>(unix_ms_now());
    return *b;
}

void server::impl::tick_windows() {
    window_timer.expires_after(std::chrono::milliseconds(histogram_block::window_step_ms));
    window_timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        {
            std::lock_guard lock(mu);
            const auto now = unix_ms_now();
            for (auto& [name, b] : histograms) b->tick(now);
        }
        tick_windows();
    });
}

server::impl::endpoint_shared server::impl::endpoint_for(const config::listener_config& lc, bool reuse) {
    // The limits of a reused endpoint change when the new listener claims it (a reload that
    // fails half-way leaves them as they are).
    if (reuse && lc.listen.port != 0)
        if (const auto it = endpoints.find(lc.listen.text); it != endpoints.end()) return it->second;
    endpoint_shared e{std::make_shared<endpoint_admission>(endpoint_admission::limits_of(lc)),
                      std::make_shared<connection_registry>()};
    if (lc.listen.port != 0) endpoints[lc.listen.text] = e;
    return e;
}

std::shared_ptr<listener> server::impl::make_listener(const config::config_ptr& c, std::size_t i, bool reuse) {
    const auto& lc = c->listeners.at(i);
    auto e = endpoint_for(lc, reuse);
    return std::make_shared<listener>(loops, c, i, block_for(lc.name), total, pool, std::move(e.admission),
                                      std::move(e.registry), &histograms_for(lc.name));
}

std::unique_ptr<watchdog> server::impl::make_watchdog(server& owner) {
    // A new watchdog (at start and at every reload) starts from healthy, as its own health does;
    // without this a reload that healed an accept path left the gauge, and systemd's heartbeat
    // (service/posix/systemd_heartbeat), at 0.
    total.set(counter::healthy, 1);
    if (!cfg->watchdog.enabled) return nullptr;
    auto d = std::make_unique<watchdog>(ioc, cfg->watchdog, listeners, total);
    d->on_unrecoverable([&owner](const std::string& reason) {
        auto& m = *owner.impl_;
        if (owner.current_config()->watchdog.on_unrecoverable != config::unrecoverable_action::exit) return;
        TB_LOG_ERROR("watchdog: accept path unrecoverable (", reason,
                     "); exiting so the service manager restarts the broker");
        m.exit_code = tlsbroker::exit_code::unrecoverable;
        asio::post(m.ioc, [&m] { m.begin_drain(); });
    });
    d->start();
    return d;
}

void server::impl::fit_descriptors(const config::broker_config& c, bool at_start) {
    const auto b = fit_descriptor_limit(descriptors_needed(c));
    total.set(counter::descriptors_needed, b.needed);
    total.set(counter::descriptors_limit, b.applies ? b.limit : 0);
    // One warning when the limit is short (at start, or when a reload makes it so); an
    // info line when it was raised or a reload changed what is needed.
    const bool was_enough = descriptors.enough();
    if (!b.enough() && (at_start || was_enough || b.needed != descriptors.needed))
        TB_LOG_WARN(describe(b));
    else if (b.raised() || (!at_start && b.needed != descriptors.needed))
        TB_LOG_INFO(describe(b));
    descriptors = b;
}

health_state server::impl::health() const {
    auto h = dog ? dog->health() : health_state{};
    if (!h.healthy) return h;
    const auto last = total.get(counter::resources_exhausted_unix_ms);
    const auto now = unix_ms_now();
    if (last != 0 && now >= last && now - last < resources_exhausted_unhealthy_ms) {
        h.healthy = false;
        h.reason = "refusing connections: out of file descriptors, buffers or memory " +
                   std::to_string((now - last) / 1000) + " s ago (descriptors: limit " +
                   std::to_string(descriptors.limit) + ", needed " + std::to_string(descriptors.needed) + ")";
    }
    return h;
}

broker_view server::impl::view() const {
    std::lock_guard lock(mu);
    broker_view v;
    v.version = TLSBROKER_VERSION;
    v.started_unix_ms = started_ms;
    const auto h = health();
    v.healthy = h.healthy;
    v.health_reason = h.reason;
    v.total = &total;
    for (const auto& l : listeners) {
        listener_view lv;
        lv.name = l->cfg().name;
        std::ostringstream ep;
        ep << l->local_endpoint();
        lv.listen = ep.str();
        lv.state = to_string(l->state());
        lv.counters = blocks.at(l->cfg().name).get();
        lv.histograms = histograms.at(l->cfg().name).get();
        lv.max_connections = l->cfg().max_connections;
        lv.watchdog_on = dog != nullptr;
        lv.last_probe = l->last_probe();
        auto backends = nlohmann::json::array();
        for (const auto& b : l->backends().snapshot())
            backends.push_back({{"address", b.address},
                                {"up", b.up},
                                {"consecutive_failures", b.consecutive_failures},
                                {"connects_ok", b.connects_ok},
                                {"connects_failed", b.connects_failed},
                                {"marked_down", b.marked_down}});
        lv.extra["backends"] = std::move(backends);
        lv.extra["backend_policy"] = std::string(config::to_string(l->cfg().backend_policy));
        lv.extra["live_sessions"] = l->live_sessions();
        if (certs) lv.extra["certificates"] = certs->certificates(lv.name);
        const auto why = degraded.find(lv.name);
        lv.extra["degraded"] = why != degraded.end();
        lv.extra["degraded_reason"] = why != degraded.end() ? nlohmann::json(why->second) : nlohmann::json();
        lv.extra["slots"] = {{"held", l->admission().active()},
                             {"max_connections", l->admission().max_connections()},
                             {"held_without_sessions", l->orphaned_slots()}};
        v.listeners.push_back(std::move(lv));
    }
    v.extra["relay_buffers"] = {{"in_use", pool.in_use()}, {"cached", pool.cached()}};
    v.extra["config_file"] = cfg->source.string();
    v.extra["openssl"] = openssl_version_text();
    v.extra["tls_groups_default"] = default_tls_groups();
    v.extra["last_reload"] = last_reload;
    if (certs) v.extra["certificate_watch"] = certs->status();
    // Sessions of removed endpoints (a replaced listener's sessions count on its endpoint).
    std::set<const connection_registry*> seen;
    for (const auto& l : listeners) seen.insert(l->registry().get());
    std::size_t draining = 0;
    for (const auto& l : retired)
        if (seen.insert(l->registry().get()).second) draining += l->live_sessions();
    v.extra["draining_sessions"] = draining;
    v.extra["retired_listeners"] = retired.size();
    v.extra["descriptors"] = {{"needed", descriptors.needed},
                              {"limit", descriptors.applies ? nlohmann::json(descriptors.limit) : nlohmann::json()},
                              {"hard_limit", descriptors.applies ? nlohmann::json(descriptors.hard) : nlohmann::json()},
                              {"enough", descriptors.enough()}};  // replaced or removed, own sessions still open
    v.extra["io"] = io_report(const_cast<event_loops&>(loops));   // a read-only query
    return v;
}

std::string server::impl::backend_metrics() const {
    std::vector<backend_view> v;
    {
        std::lock_guard lock(mu);
        for (const auto& l : listeners)
            for (const auto& b : l->backends().snapshot())
                v.push_back({l->cfg().name, b.address, b.up, b.connects_ok, b.connects_failed, b.marked_down});
    }
    return render_backend_prometheus(v);
}

void server::impl::start_status(server& owner) {
    if (!cfg->status.enabled) return;
    status_handlers h;
    h.counters = &total;
    h.page = [] { return http_reply{200, status_page_content_type, std::string(status_page_html())}; };
    h.healthz = [this] {
        const auto v = view();
        if (!v.healthy) return http_reply{503u, "text/plain; charset=utf-8", "unhealthy: " + v.health_reason + "\n"};
        // A degraded listener (certificate outside its validity period) serves, but says so here;
        // the watchdog's verdict (tlsbroker_healthy, systemd's heartbeat) does not count it.
        std::string why;
        for (const auto& l : v.listeners)
            if (l.extra.value("degraded", false))
                why += "degraded: listener '" + l.name + "': " + l.extra["degraded_reason"].get<std::string>() + "\n";
        return why.empty() ? http_reply{200u, "text/plain; charset=utf-8", "ok\n"}
                           : http_reply{503u, "text/plain; charset=utf-8", why};
    };
    h.status = [this] {
        return http_reply{
            200, "application/json",
            render_status(view(), unix_ms_now()).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
    };
    h.metrics = [this] {
        auto v = view();
        v.process = read_process_stats();
        return http_reply{
            200, "text/plain; version=0.0.4; charset=utf-8",
            render_prometheus(v, unix_ms_now()) + backend_metrics() + (certs ? certs->metrics() : std::string())};
    };
    h.reload = [&owner] {
        const auto r = owner.reload();
        nlohmann::json j = {{"ok", r.ok}, {"errors", r.errors}, {"summary", r.summary}};
        return http_reply{r.ok ? 200u : 422u, "application/json", j.dump(2) + "\n"};
    };
    const auto ep = bind_endpoint(cfg->status.listen);
    try {
        status = std::make_unique<status_server>(ioc, ep, std::move(h), status_access::from(cfg->status));
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("status endpoint cannot listen on " + cfg->status.listen.text + ": " +
                                 e.code().message());
    }
    TB_LOG_INFO("status endpoint on http://", status->local_endpoint(), "/status (reads ",
                cfg->status.token_file.empty() ? "open" : "need a token", ", POST /reload ",
                cfg->status.reload_token_file.empty() ? "off" : "needs a token", ")");
}

void server::impl::prune_retired() {
    // A listener's own sessions, not its endpoint's: the endpoint's registry also holds the
    // sessions of the listener that replaced it, so waiting for it to empty kept every
    // replaced listener (and its TLS contexts) alive while any connection was open.
    std::erase_if(retired,
                  [](const auto& l) { return l->own_sessions() == 0 && l->state() == listener_state::stopped; });
    if (retired.empty() || retired_timer_armed || stopping) return;
    retired_timer_armed = true;
    retired_timer.expires_after(std::chrono::seconds(1));
    retired_timer.async_wait([this](const boost::system::error_code& ec) {
        std::lock_guard lock(mu);
        retired_timer_armed = false;
        if (!ec) prune_retired();
    });
}

std::size_t server::impl::live() const {
    std::lock_guard lock(mu);
    // Listeners of one endpoint share its registry: count each registry once.
    std::set<const connection_registry*> seen;
    std::size_t n = 0;
    for (const auto* set : {&listeners, &retired})
        for (const auto& l : *set)
            if (seen.insert(l->registry().get()).second) n += l->live_sessions();
    return n;
}

void server::impl::begin_drain() {
    if (stopping) return;
    stopping = true;
    std::uint32_t longest = 0;
    {
        std::lock_guard lock(mu);
        for (const auto* set : {&listeners, &retired})
            for (const auto& l : *set) {
                l->drain(std::chrono::milliseconds(l->cfg().timeouts.drain_ms));
                longest = std::max(longest, l->cfg().timeouts.drain_ms);
            }
        if (dog) dog->stop();
    }
    if (certs) certs->request_stop();
    TB_LOG_INFO("stopping: draining ", live(), " connections for up to ", longest, " ms");
    watch_drain(std::chrono::steady_clock::now() + std::chrono::milliseconds(longest) + std::chrono::seconds(5),
                std::chrono::steady_clock::now());
}

void server::impl::watch_drain(std::chrono::steady_clock::time_point hard_deadline,
                               std::chrono::steady_clock::time_point last_report) {
    const auto n = live();
    const auto now = std::chrono::steady_clock::now();
    if (drain_progress && now - last_report >= std::chrono::seconds(1)) {
        drain_progress(n);
        last_report = now;
    }
    if (n == 0 || now >= hard_deadline) {
        if (n != 0) TB_LOG_ERROR("stopping with ", n, " connections still open");
        if (status) status->stop();
        TB_LOG_INFO("stopped");
        loops.stop();
        return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([this, hard_deadline, last_report](const boost::system::error_code& ec) {
        if (!ec) watch_drain(hard_deadline, last_report);
    });
}

server::server(config::config_ptr cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
    count_key_sign_failures(impl_->total);
}

server::~server() {
    if (impl_) {
        stop_counting_key_sign_failures(impl_->total);
        if (impl_->certs) impl_->certs->stop();  // its hooks call into this server
        for (auto& l : impl_->listeners) l->stop();
        if (impl_->status) impl_->status->stop();
    }
}

void server::start() {
    auto& m = *impl_;
    m.total.set(counter::healthy, 1);
    {
        std::lock_guard lock(m.mu);
        m.fit_descriptors(*m.cfg, true);
        for (std::size_t i = 0; i < m.cfg->listeners.size(); ++i) {
            auto l = m.make_listener(m.cfg, i, false);
            l->start();  // throws; listeners already bound are closed by their destructors
            m.listeners.push_back(std::move(l));
        }
    }
    m.start_status(*this);
    m.start_cert_watch(*this);
    m.tick_windows();
    std::lock_guard lock(m.mu);
    m.dog = m.make_watchdog(*this);
}

int server::run() {
    auto& m = *impl_;
    m.loops.run([](asio::io_context& loop) {
        for (;;) {
            try {
                loop.run();
                return;
            } catch (const std::exception& e) {
                log::limited(log::level::error, "handler-exception",
                             log::str("unexpected exception in a handler: ", e.what()));
            }
        }
    });
    std::lock_guard lock(m.mu);
    if (m.dog) m.dog->join();
    return m.exit_code;
}

void server::request_stop() {
    asio::post(impl_->ioc, [this] { impl_->begin_drain(); });
}

void server::on_drain_progress(std::function<void(std::size_t)> cb) { impl_->drain_progress = std::move(cb); }

config::config_ptr server::current_config() const {
    std::lock_guard lock(impl_->mu);
    return impl_->cfg;
}

std::size_t server::live_sessions() const { return impl_->live(); }

std::vector<tcp::endpoint> server::listener_endpoints() const {
    std::lock_guard lock(impl_->mu);
    std::vector<tcp::endpoint> v;
    for (const auto& l : impl_->listeners) v.push_back(l->local_endpoint());
    return v;
}

tcp::endpoint server::status_endpoint() const {
    return impl_->status ? impl_->status->local_endpoint() : tcp::endpoint{};
}

const counter_block& server::total_counters() const { return impl_->total; }
counter_block& server::total_counters() { return impl_->total; }

std::vector<std::pair<std::string, const counter_block*>> server::listener_counters() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::pair<std::string, const counter_block*>> v;
    for (const auto& l : impl_->listeners) v.emplace_back(l->cfg().name, impl_->blocks.at(l->cfg().name).get());
    return v;
}

std::vector<std::pair<std::string, const histogram_block*>> server::listener_histograms() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::pair<std::string, const histogram_block*>> v;
    for (const auto& l : impl_->listeners) v.emplace_back(l->cfg().name, impl_->histograms.at(l->cfg().name).get());
    return v;
}

std::shared_ptr<listener> server::listener_at(std::size_t index) const {
    std::lock_guard lock(impl_->mu);
    return impl_->listeners.at(index);
}

void server::post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

bool server::healthy() const {
    std::lock_guard lock(impl_->mu);
    return impl_->health().healthy;
}

}  // namespace tlsbroker::core
