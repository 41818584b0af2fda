#include "core/health/watchdog.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "core/common/log.hpp"
#include "core/health/watchdog_rules.hpp"
#include "core/listener/listener.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

struct watchdog::state : std::enable_shared_from_this<watchdog::state> {
    struct per_listener {
        std::shared_ptr<listener> l;
        watchdog_memory memory;  // what the rules remember of it between observations
        bool probing = false;
        // What is pending for this listener, so that stop() can cancel it.
        std::shared_ptr<tcp::socket> probe_sock;
        std::shared_ptr<asio::steady_timer> probe_timer;
        std::shared_ptr<asio::steady_timer> verify_timer;
    };

    asio::io_context& ioc;
    config::watchdog_config cfg;
    counter_block& total;
    asio::strand<asio::io_context::executor_type> strand;
    asio::steady_timer check_timer;
    asio::steady_timer probe_timer;
    std::vector<per_listener> ls;
    std::atomic<bool> stopped{false};
    mutable std::mutex health_mutex;
    health_state health;
    std::function<void(const std::string&)> unrecoverable;

    state(asio::io_context& io, const config::watchdog_config& c, std::vector<std::shared_ptr<listener>> v,
          counter_block& t)
        : ioc(io), cfg(c), total(t), strand(asio::make_strand(io)), check_timer(strand), probe_timer(strand) {
        for (auto& l : v) {
            per_listener pl;
            pl.l = std::move(l);
            ls.push_back(std::move(pl));
        }
    }

    std::chrono::milliseconds ms(std::uint32_t v) const { return std::chrono::milliseconds(v); }

    // On the strand: nothing of this watchdog acts after this (a reload replaced it).
    void shut_down() {
        stopped = true;
        check_timer.cancel();
        probe_timer.cancel();
        for (auto& pl : ls) {
            if (pl.probe_timer) pl.probe_timer->cancel();
            if (pl.verify_timer) pl.verify_timer->cancel();
            if (pl.probe_sock) {
                boost::system::error_code ignored;
                pl.probe_sock->close(ignored);
            }
            pl.probe_timer.reset();
            pl.verify_timer.reset();
            pl.probe_sock.reset();
        }
    }

    void schedule_check() {
        check_timer.expires_after(ms(cfg.interval_ms));
        check_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->stopped) return;
            for (std::size_t i = 0; i < self->ls.size(); ++i) self->check(i);
            self->schedule_check();
        });
    }

    void schedule_probes() {
        probe_timer.expires_after(ms(cfg.probe_interval_ms));
        probe_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->stopped) return;
            for (std::size_t i = 0; i < self->ls.size(); ++i) self->probe(i);
            self->schedule_probes();
        });
    }

    void check(std::size_t i) {
        ls[i].l->inspect([self = shared_from_this(), i](accept_progress p, std::optional<std::uint32_t> depth) {
            asio::post(self->strand, [self, i, p, depth] { self->evaluate(i, p, depth); });
        });
    }

    void evaluate(std::size_t i, const accept_progress& p, std::optional<std::uint32_t> depth) {
        if (stopped) return;
        if (depth) ls[i].l->ctr().set(counter::accept_queue_depth, *depth);
        act(i, observe(i, watch_event::check, p, depth));
    }

    // What the rules read. The accept count is read again now: the ladder compares it with
    // the count when the ladder began.
    watchdog_observation observe(std::size_t i, watch_event e, const accept_progress& p,
                                 std::optional<std::uint32_t> depth) const {
        watchdog_observation o;
        o.event = e;
        o.now_ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch()).count());
        o.probe_timeout_ms = cfg.probe_timeout_ms;
        o.progress = p;
        o.queue_depth = depth;
        o.accepts_now = ls[i].l->progress().accepts;
        return o;
    }

    // The rules decide (watchdog_rules.hpp); this counts, logs and takes the step.
    void act(std::size_t i, const watchdog_observation& o) {
        auto& pl = ls[i];
        const auto before = pl.memory;
        const auto d = judge(o, before);
        pl.memory = d.next;
        auto& c = pl.l->ctr();
        const auto& name = pl.l->cfg().name;
        if (d.rule->invariant_violation) c.add(counter::invariant_violations);
        report_slots(pl, o, d);
        switch (d.rule->probe) {
            case probe_outcome::none:
                break;
            case probe_outcome::ok:
                c.add(counter::probes_ok);
                break;
            case probe_outcome::slow:
                c.add(counter::probes_slow);
                log::limited(
                    log::level::warning, name + ":probe-slow",
                    log::str("watchdog: listener '", name, "' probe not accepted within ", cfg.probe_timeout_ms,
                             " ms, but ", d.reason, ": overload, not a stall; no recovery step"));
                break;
            case probe_outcome::stalled:
                c.add(counter::probes_failed);
                break;
        }
        if (d.rule->probe != probe_outcome::none) pl.l->note_probe(d.rule->probe);
        // Accepts complete again: the ladder starts from the bottom at the next stall.
        if (d.ladder_reset_from != watchdog_step::none)
            log::write_event(log::event::listener_healed,
                             {{"listener", name}, {"step", log::str(static_cast<int>(d.ladder_reset_from))}},
                             log::str("watchdog: listener '", name, "' accepts again after recovery step ",
                                      static_cast<int>(d.ladder_reset_from)));
        if (d.rung != nullptr) climb(i, o, d, before);
    }

    // Slots held by nobody: re-arming or re-creating the socket cannot help; it is counted
    // (as an invariant violation, once per episode), logged, and shown in /status
    // ("slots_held_without_sessions").
    void report_slots(per_listener& pl, const watchdog_observation& o, const watchdog_decision& d) {
        const auto& name = pl.l->cfg().name;
        if (d.orphans_cleared) {
            TB_LOG_WARN("watchdog: listener '", name, "' slots are free again (", o.progress.active, " held, ",
                        o.progress.live_sessions, " live sessions)");
            pl.l->note_orphaned_slots(false);
        }
        if (d.orphans_reported) {
            pl.l->ctr().add(counter::invariant_violations);
            pl.l->note_orphaned_slots(true);
        }
        if (d.orphans_held)
            log::limited(log::level::error, name + ":orphaned-slots",
                         log::str("watchdog: listener '", name, "' ", d.reason));
    }

    // A probe: the accept count and queue depth are read on the listener's strand, then a
    // canary connects; at the timeout they are read again the same way. Accepts that
    // completed meanwhile make a late canary "slow" (overload); none make it a stall.
    void probe(std::size_t i) {
        auto& pl = ls[i];
        if (stopped || pl.probing || !worth_a_probe(pl.l->state())) return;
        pl.probing = true;
        pl.l->inspect([self = shared_from_this(), i](accept_progress p, std::optional<std::uint32_t> depth) {
            asio::post(self->strand, [self, i, p, depth] { self->start_probe(i, p.accepts, depth); });
        });
    }

    void start_probe(std::size_t i, std::uint64_t accepts0, std::optional<std::uint32_t> depth0) {
        auto& pl = ls[i];
        if (stopped) return;
        auto target = pl.l->local_endpoint();
        if (target.address().is_unspecified())
            target.address(target.address().is_v6() ? asio::ip::address(asio::ip::address_v6::loopback())
                                                    : asio::ip::address(asio::ip::address_v4::loopback()));
        auto sock = std::make_shared<tcp::socket>(strand);
        auto timer = std::make_shared<asio::steady_timer>(strand);
        boost::system::error_code ec;
        sock->open(target.protocol(), ec);
        if (!ec) sock->bind(tcp::endpoint(target.address(), 0), ec);
        tcp::endpoint from;
        if (!ec) from = sock->local_endpoint(ec);
        if (ec) {
            pl.probing = false;
            log::limited(log::level::warning, "probe-socket",
                         log::str("watchdog: cannot open a probe socket: ", ec.message()));
            return;
        }
        pl.probe_sock = sock;
        pl.probe_timer = timer;
        const auto begun = clock::now();
        auto done = std::make_shared<bool>(false);
        auto self = shared_from_this();
        // The entry may outlive this watchdog (a canary left in a queue stays registered with
        // the endpoint's admission, which is kept across reloads): it holds weak references,
        // so that it keeps neither the watchdog, its listeners nor the canary's socket alive (a
        // canary closed meanwhile is still taken as a probe: it is known by its address).
        pl.l->add_probe(
            from, [weak = weak_from_this(), i, weak_timer = std::weak_ptr<asio::steady_timer>(timer), done, begun] {
                auto self = weak.lock();
                if (!self) return;
                asio::post(self->strand, [self, i, timer = weak_timer.lock(), done, begun] {
                    if (*done || self->stopped || !timer) return;
                    *done = true;
                    timer->cancel();
                    self->probe_finished(i);
                    self->probe_taken(i, clock::now() - begun);
                });
            });
        sock->async_connect(target, [self, i, sock, timer, done, from](const boost::system::error_code& e) {
            if (!e || *done || self->stopped) return;
            *done = true;
            timer->cancel();
            self->ls[i].l->remove_probe(from);
            self->probe_finished(i);
            self->probe_refused(i, e.message());
        });
        timer->expires_after(ms(cfg.probe_timeout_ms));
        timer->async_wait([self, i, sock, done, from, accepts0, depth0](const boost::system::error_code& e) {
            if (e || *done || self->stopped) return;
            *done = true;
            // A canary that reached the queue stays registered: when the acceptor takes it
            // later it is closed as a probe, never served as a client. One that never
            // connected is forgotten, so that its port may serve a real client.
            boost::system::error_code not_connected;
            sock->remote_endpoint(not_connected);
            if (not_connected) self->ls[i].l->remove_probe(from);
            boost::system::error_code ignored;
            sock->close(ignored);
            self->ls[i].l->inspect([self, i, accepts0, depth0](accept_progress p, std::optional<std::uint32_t> depth) {
                asio::post(self->strand, [self, i, accepts0, depth0, p, depth] {
                    if (self->stopped) return;
                    self->probe_finished(i);
                    self->probe_late(i, accepts0, depth0, p, depth);
                });
            });
        });
    }

    void probe_finished(std::size_t i) {
        auto& pl = ls[i];
        pl.probing = false;
        pl.probe_sock.reset();
        pl.probe_timer.reset();
    }

    void probe_taken(std::size_t i, clock::duration latency) {
        auto& pl = ls[i];
        pl.l->ctr().set(
            counter::probe_latency_us,
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
        auto o = observe(i, watch_event::canary, pl.l->progress(), std::nullopt);
        o.canary = canary_result::taken;
        act(i, o);
    }

    void probe_refused(std::size_t i, const std::string& error) {
        auto o = observe(i, watch_event::canary, ls[i].l->progress(), std::nullopt);
        o.canary = canary_result::connect_failed;
        o.canary_error = error;
        act(i, o);
    }

    // Judged by the accept count and queue depth over the probe window, read on the
    // listener's strand at the probe's start and after its timeout.
    void probe_late(std::size_t i, std::uint64_t accepts0, std::optional<std::uint32_t> depth0,
                    const accept_progress& p, std::optional<std::uint32_t> depth) {
        auto o = observe(i, watch_event::canary, p, depth);
        o.canary = canary_result::late;
        o.canary_accepts0 = accepts0;
        o.canary_depth0 = depth0;
        act(i, o);
    }

    // A stall climbs the ladder: the rung says which step, if any, is taken now.
    void climb(std::size_t i, const watchdog_observation& o, const watchdog_decision& d,
               const watchdog_memory& before) {
        if (d.step == watchdog_step::none) return;  // the ladder ran out, or the last step is at work
        auto& pl = ls[i];
        auto& c = pl.l->ctr();
        const auto& name = pl.l->cfg().name;
        if (d.rung->starts_ladder && before.step != watchdog_step::none) {
            // Accepts completed since the ladder began: this is a new stall, not the same one
            // that the steps failed to heal. Step 3 needs a ladder with no accept at all.
            TB_LOG_WARN("watchdog: listener '", name, "' accepted ", o.accepts_now - before.ladder_accepts,
                        " connections since recovery step ", static_cast<int>(before.step),
                        "; starting the ladder again");
        }
        c.add(counter::accept_stalls);
        switch (d.step) {
            case watchdog_step::none:
                return;
            case watchdog_step::rearm:
                c.add(counter::recoveries_rearm);
                log::write_event(log::event::listener_stalled,
                                 {{"listener", name}, {"reason", d.reason}, {"step", "1"}},
                                 log::str("watchdog: listener '", name, "' accept stalled: ", d.reason,
                                          "; step 1: re-arming the accept"));
                pl.l->recover_rearm();
                break;
            case watchdog_step::recreate:
                c.add(counter::recoveries_recreate);
                log::write_event(
                    log::event::listener_stalled, {{"listener", name}, {"reason", d.reason}, {"step", "2"}},
                    log::str("watchdog: listener '", name, "' still stalled: ", d.reason,
                             "; step 2: re-creating the listening socket (its queued connections are kept)"));
                pl.l->recover_recreate();
                break;
            case watchdog_step::give_up: {
                c.add(counter::recoveries_unrecoverable);
                const auto reason = "listener '" + name + "' accept path unrecoverable: " + d.reason;
                {
                    std::lock_guard lock(health_mutex);
                    health = {false, reason};
                }
                total.set(counter::healthy, 0);
                log::write_event(log::event::listener_gave_up, {{"listener", name}, {"reason", d.reason}},
                                 log::str("watchdog: ", reason,
                                          "; no accept completed through steps 1 and 2; step 3: reporting unhealthy"));
                if (unrecoverable) unrecoverable(reason);
                break;
            }
        }
        if (d.verify_in_ms == 0) return;
        // Verify the step soon rather than at the next interval.
        auto t = std::make_shared<asio::steady_timer>(strand, ms(d.verify_in_ms));
        if (pl.verify_timer) pl.verify_timer->cancel();
        pl.verify_timer = t;
        t->async_wait([self = shared_from_this(), t, i](const boost::system::error_code& ec) {
            if (!ec && !self->stopped) self->probe(i);
        });
    }
};

watchdog::watchdog(asio::io_context& ioc, const config::watchdog_config& cfg,
                   std::vector<std::shared_ptr<listener>> listeners, counter_block& total)
    : state_(std::make_shared<state>(ioc, cfg, std::move(listeners), total)),
      heartbeat_(ioc, std::chrono::milliseconds(cfg.heartbeat_ms), total) {}

watchdog::~watchdog() {
    stop();
    heartbeat_.stop();
}

void watchdog::start() {
    TB_LOG_INFO("watchdog: checks every ", state_->cfg.interval_ms, " ms, probes every ", state_->cfg.probe_interval_ms,
                " ms (timeout ", state_->cfg.probe_timeout_ms, " ms), heartbeat bound ", state_->cfg.heartbeat_ms,
                " ms");
    asio::post(state_->strand, [s = state_] {
        s->schedule_check();
        s->schedule_probes();
    });
    heartbeat_.start();
}

void watchdog::stop() {
    state_->stopped = true;  // at once: a handler already queued does nothing
    asio::post(state_->strand, [s = state_] { s->shut_down(); });
}

void watchdog::join() { heartbeat_.stop(); }

health_state watchdog::health() const {
    std::lock_guard lock(state_->health_mutex);
    return state_->health;
}

void watchdog::on_unrecoverable(std::function<void(const std::string&)> cb) { state_->unrecoverable = std::move(cb); }

}  // namespace tlsbroker::core
