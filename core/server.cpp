#include "core/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <thread>

#include "core/buffer_pool.hpp"
#include "core/listener.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/status_server.hpp"
#include "core/watchdog.hpp"
#include "version.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct server::impl {
    config::config_ptr cfg;
    asio::io_context ioc;
    buffer_pool pool;
    counter_block total;
    std::vector<std::unique_ptr<counter_block>> blocks;
    std::vector<std::shared_ptr<listener>> listeners;
    std::unique_ptr<status_server> status;
    std::unique_ptr<watchdog> dog;
    asio::steady_timer drain_timer{ioc};
    std::function<void(std::size_t)> drain_progress;
    std::uint64_t started_ms = unix_ms_now();
    bool stopping = false;  // on the io_context
    int exit_code = 0;

    explicit impl(config::config_ptr c) : cfg(std::move(c)), ioc(static_cast<int>(cfg->effective_threads())) {}

    broker_view view() const {
        broker_view v;
        v.version = TLSBROKER_VERSION;
        v.started_unix_ms = started_ms;
        const auto h = dog ? dog->health() : health_state{};
        v.healthy = h.healthy;
        v.health_reason = h.reason;
        v.total = &total;
        for (std::size_t i = 0; i < listeners.size(); ++i) {
            const auto& l = listeners[i];
            listener_view lv;
            lv.name = l->cfg().name;
            std::ostringstream ep;
            ep << l->local_endpoint();
            lv.listen = ep.str();
            lv.state = to_string(l->state());
            lv.counters = blocks[i].get();
            lv.max_connections = l->cfg().max_connections;
            lv.extra["backend"] = l->cfg().backend.address.text;
            v.listeners.push_back(std::move(lv));
        }
        v.extra["relay_buffers"] = {{"in_use", pool.in_use()}, {"cached", pool.cached()}};
        return v;
    }

    void start_status() {
        if (!cfg->status.enabled) return;
        status_handlers h;
        h.healthz = [this] {
            const auto v = view();
            return http_reply{v.healthy ? 200u : 503u, "text/plain; charset=utf-8",
                              v.healthy ? "ok\n" : "unhealthy: " + v.health_reason + "\n"};
        };
        h.status = [this] {
            return http_reply{200, "application/json", render_status(view(), unix_ms_now()).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
        };
        h.metrics = [this] {
            return http_reply{200, "text/plain; version=0.0.4; charset=utf-8",
                              render_prometheus(view(), unix_ms_now())};
        };
        const auto ep = bind_endpoint(cfg->status.listen);
        try {
            status = std::make_unique<status_server>(ioc, ep, std::move(h));
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error("status endpoint cannot listen on " + cfg->status.listen.text + ": " +
                                     e.code().message());
        }
        TB_LOG_INFO("status endpoint on http://", status->local_endpoint(), "/status");
    }

    std::size_t live() const {
        std::size_t n = 0;
        for (const auto& l : listeners) n += l->live_sessions();
        return n;
    }

    void begin_drain() {
        if (stopping) return;
        stopping = true;
        std::uint32_t longest = 0;
        for (const auto& l : listeners) {
            l->drain(std::chrono::milliseconds(l->cfg().timeouts.drain_ms));
            longest = std::max(longest, l->cfg().timeouts.drain_ms);
        }
        if (dog) dog->stop();
        TB_LOG_INFO("stopping: draining ", live(), " connections for up to ", longest, " ms");
        watch_drain(std::chrono::steady_clock::now() + std::chrono::milliseconds(longest) + std::chrono::seconds(5),
                    std::chrono::steady_clock::now());
    }

    void watch_drain(std::chrono::steady_clock::time_point hard_deadline,
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
            ioc.stop();
            return;
        }
        drain_timer.expires_after(std::chrono::milliseconds(50));
        drain_timer.async_wait([this, hard_deadline, last_report](const boost::system::error_code& ec) {
            if (!ec) watch_drain(hard_deadline, last_report);
        });
    }
};

server::server(config::config_ptr cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {}

server::~server() {
    if (impl_) {
        for (auto& l : impl_->listeners) l->stop();
        if (impl_->status) impl_->status->stop();
    }
}

void server::start() {
    auto& m = *impl_;
    m.total.set(counter::healthy, 1);
    for (std::size_t i = 0; i < m.cfg->listeners.size(); ++i) {
        m.blocks.push_back(std::make_unique<counter_block>());
        auto l = std::make_shared<listener>(m.ioc, m.cfg, i, *m.blocks.back(), m.total, m.pool);
        l->start();  // throws; listeners already bound are closed by their destructors
        m.listeners.push_back(std::move(l));
    }
    m.start_status();
    if (m.cfg->watchdog.enabled) {
        m.dog = std::make_unique<watchdog>(m.ioc, m.cfg->watchdog, m.listeners, m.total);
        m.dog->on_unrecoverable([this](const std::string& reason) {
            if (impl_->cfg->watchdog.on_unrecoverable == "exit") {
                TB_LOG_ERROR("watchdog: accept path unrecoverable (", reason, "); exiting so the service manager restarts the broker");
                impl_->exit_code = 3;
                asio::post(impl_->ioc, [this] { impl_->begin_drain(); });
            }
        });
        m.dog->start();
    }
}

int server::run() {
    auto& m = *impl_;
    const auto n = m.cfg->effective_threads();
    std::vector<std::thread> workers;
    auto body = [&m] {
        for (;;) {
            try {
                m.ioc.run();
                return;
            } catch (const std::exception& e) {
                log::limited(log::level::error, "handler-exception", log::str("unexpected exception in a handler: ", e.what()));
            }
        }
    };
    for (std::uint32_t i = 1; i < n; ++i) workers.emplace_back(body);
    body();
    for (auto& t : workers) t.join();
    if (m.dog) m.dog->join();
    return m.exit_code;
}

void server::request_stop() {
    asio::post(impl_->ioc, [this] { impl_->begin_drain(); });
}

void server::on_drain_progress(std::function<void(std::size_t)> cb) { impl_->drain_progress = std::move(cb); }

config::config_ptr server::current_config() const { return impl_->cfg; }

std::size_t server::live_sessions() const { return impl_->live(); }

std::vector<tcp::endpoint> server::listener_endpoints() const {
    std::vector<tcp::endpoint> v;
    for (const auto& l : impl_->listeners) v.push_back(l->local_endpoint());
    return v;
}

tcp::endpoint server::status_endpoint() const { return impl_->status ? impl_->status->local_endpoint() : tcp::endpoint{}; }

const counter_block& server::total_counters() const { return impl_->total; }

std::vector<std::pair<std::string, const counter_block*>> server::listener_counters() const {
    std::vector<std::pair<std::string, const counter_block*>> v;
    for (std::size_t i = 0; i < impl_->listeners.size(); ++i)
        v.emplace_back(impl_->listeners[i]->cfg().name, impl_->blocks[i].get());
    return v;
}

std::shared_ptr<listener> server::listener_at(std::size_t index) const { return impl_->listeners.at(index); }

void server::post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

bool server::healthy() const { return impl_->dog ? impl_->dog->health().healthy : true; }

}  // namespace tlsbroker::core
