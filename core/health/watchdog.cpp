#include "core/health/watchdog.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "core/common/log.hpp"
#include "core/listener/listener.hpp"

namespace tlsbroker::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

struct watchdog::state : std::enable_shared_from_this<watchdog::state> {
    struct per_listener {
        std::shared_ptr<listener> l;
        int step = 0;                      // last recovery step taken; 0 = healthy
        clock::time_point quiet_until{};   // give the last step time to work
        std::uint64_t ladder_accepts = 0;  // the accept count when step 1 was taken
        bool probing = false;
        bool low_pause_seen = false;
        std::uint64_t orphaned_since_ms = 0;  // when the limit was first seen held by no session
        bool orphaned_reported = false;
        std::uint64_t queue_seen_ms = 0;  // when a non-empty accept queue was first seen
        std::uint64_t queue_accepts = 0;  // the accept count then
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
        auto& pl = ls[i];
        auto& c = pl.l->ctr();
        const char* broken = nullptr;
        if (p.state == listener_state::accepting && !p.accept_outstanding && !p.timer_pending)
            broken = "accepting with no accept outstanding";
        else if (p.state == listener_state::backing_off && !p.timer_pending)
            broken = "backing off with no resume timer";
        // A closing connection lowers `active` just before it posts the resume, so a pause
        // below the limit counts only when a second check still sees it.
        const bool low_pause = p.state == listener_state::paused_at_limit && p.active < p.max_connections;
        if (low_pause && pl.low_pause_seen) broken = "paused below its connection limit";
        pl.low_pause_seen = low_pause;
        if (broken != nullptr) {
            c.add(counter::invariant_violations);
            return stall(i, broken);
        }
        check_orphaned_slots(i, p);
        if (depth) {
            c.set(counter::accept_queue_depth, *depth);
            // A stall is a queue that stays non-empty while not one accept completes for
            // probe_timeout_ms. Accepts are counted (read on the listener's strand), not
            // timed: an accept that completes while the queue stays full (overload) is
            // progress, and so is one that completes just after the queue was first seen.
            const auto now = unix_ms_now();
            if (*depth == 0 || p.state != listener_state::accepting) {
                pl.queue_seen_ms = 0;
            } else if (pl.queue_seen_ms == 0 || p.accepts != pl.queue_accepts) {
                pl.queue_seen_ms = now;  // first sight, or progress since: watch afresh
                pl.queue_accepts = p.accepts;
            } else if (now - pl.queue_seen_ms > cfg.probe_timeout_ms) {
                pl.queue_seen_ms = 0;
                return stall(i, "accept queue not drained: " + std::to_string(*depth) +
                                    " connections waiting and no accept completed");
            }
        }
    }

    // The signature of leaked slots: the listener stays paused at its connection limit while
    // no session is live on its endpoint, so nothing will ever give a slot back. Re-arming or
    // re-creating the socket cannot help; it is counted (as an invariant violation, once per
    // episode), logged, and shown in /status ("slots_held_without_sessions").
    void check_orphaned_slots(std::size_t i, const accept_progress& p) {
        auto& pl = ls[i];
        const bool orphaned = p.state == listener_state::paused_at_limit && p.active > 0 &&
                              p.active >= p.max_connections && p.live_sessions == 0;
        if (!orphaned) {
            if (pl.orphaned_reported) {
                TB_LOG_WARN("watchdog: listener '", pl.l->cfg().name, "' slots are free again (", p.active, " held, ",
                            p.live_sessions, " live sessions)");
                pl.l->note_orphaned_slots(false);
            }
            pl.orphaned_since_ms = 0;
            pl.orphaned_reported = false;
            return;
        }
        const auto now = unix_ms_now();
        if (pl.orphaned_since_ms == 0) pl.orphaned_since_ms = now;
        // A closing session leaves the registry just before it gives its slot back: only a
        // state that lasts a probe timeout counts.
        if (now - pl.orphaned_since_ms < cfg.probe_timeout_ms) return;
        if (!pl.orphaned_reported) {
            pl.orphaned_reported = true;
            pl.l->ctr().add(counter::invariant_violations);
            pl.l->note_orphaned_slots(true);
        }
        log::limited(log::level::error, pl.l->cfg().name + ":orphaned-slots",
                     log::str("watchdog: listener '", pl.l->cfg().name, "' paused at its limit: ", p.active, " of ",
                              p.max_connections,
                              " slots held but no session is live (leaked slots?); "
                              "it accepts nobody until a slot is given back"));
    }

    // A probe: the accept count and queue depth are read on the listener's strand, then a
    // canary connects; at the timeout they are read again the same way. Accepts that
    // completed meanwhile make a late canary "slow" (overload); none make it a stall.
    void probe(std::size_t i) {
        auto& pl = ls[i];
        if (stopped || pl.probing || pl.l->state() != listener_state::accepting) return;
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
                    self->probe_ok(i, clock::now() - begun);
                });
            });
        sock->async_connect(target, [self, i, sock, timer, done, from](const boost::system::error_code& e) {
            if (!e || *done || self->stopped) return;
            *done = true;
            timer->cancel();
            self->ls[i].l->remove_probe(from);
            self->probe_finished(i);
            self->probe_failed(i, "connect: " + e.message());
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
                    self->judge_late_probe(i, accepts0, depth0, p, depth);
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

    void judge_late_probe(std::size_t i, std::uint64_t accepts0, std::optional<std::uint32_t> depth0,
                          const accept_progress& p, std::optional<std::uint32_t> depth) {
        const auto accepted = p.accepts - accepts0;
        const bool draining = depth0 && depth && *depth < *depth0;
        if (accepted > 0 || draining) {
            return probe_slow(i, std::to_string(accepted) + " accepts completed meanwhile" +
                                     (depth ? ", " + std::to_string(*depth) + " connections still queued" : ""));
        }
        if (p.state != listener_state::accepting) {
            // Paused at the limit or backing off since: the canary waits for a reason the
            // checks cover; this probe says nothing about the accept path.
            return probe_slow(i, std::string("the listener is ") + to_string(p.state));
        }
        probe_failed(i, "not accepted within probe_timeout_ms, and no accept completed meanwhile");
    }

    void probe_ok(std::size_t i, clock::duration latency) {
        auto& pl = ls[i];
        auto& c = pl.l->ctr();
        c.add(counter::probes_ok);
        c.set(counter::probe_latency_us,
              static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
        pl.l->note_probe(probe_outcome::ok);
        accepts_again(i);
    }

    void probe_slow(std::size_t i, const std::string& why) {
        auto& pl = ls[i];
        pl.l->ctr().add(counter::probes_slow);
        pl.l->note_probe(probe_outcome::slow);
        log::limited(log::level::warning, pl.l->cfg().name + ":probe-slow",
                     log::str("watchdog: listener '", pl.l->cfg().name, "' probe not accepted within ",
                              cfg.probe_timeout_ms, " ms, but ", why, ": overload, not a stall; no recovery step"));
        accepts_again(i);
    }

    void probe_failed(std::size_t i, const std::string& why) {
        auto& pl = ls[i];
        pl.l->ctr().add(counter::probes_failed);
        pl.l->note_probe(probe_outcome::stalled);
        stall(i, "canary probe failed (" + why + ")");
    }

    // Accepts complete again: the ladder starts from the bottom at the next stall.
    void accepts_again(std::size_t i) {
        auto& pl = ls[i];
        if (pl.step > 0 && pl.step < 3) {
            TB_LOG_WARN("watchdog: listener '", pl.l->cfg().name, "' accepts again after recovery step ", pl.step);
            pl.step = 0;
        }
    }

    void stall(std::size_t i, const std::string& why) {
        if (stopped) return;
        auto& pl = ls[i];
        const auto now = clock::now();
        if (pl.step >= 3 || now < pl.quiet_until) return;
        const auto accepts = pl.l->progress().accepts;
        if (pl.step > 0 && accepts != pl.ladder_accepts) {
            // Accepts completed since the ladder began: this is a new stall, not the same one
            // that the steps failed to heal. Step 3 needs a ladder with no accept at all.
            TB_LOG_WARN("watchdog: listener '", pl.l->cfg().name, "' accepted ", accepts - pl.ladder_accepts,
                        " connections since recovery step ", pl.step, "; starting the ladder again");
            pl.step = 0;
        }
        if (pl.step == 0) pl.ladder_accepts = accepts;
        auto& c = pl.l->ctr();
        c.add(counter::accept_stalls);
        pl.step += 1;
        pl.quiet_until = now + ms(cfg.probe_timeout_ms);
        const auto& name = pl.l->cfg().name;
        switch (pl.step) {
            case 1:
                c.add(counter::recoveries_rearm);
                TB_LOG_ERROR("watchdog: listener '", name, "' accept stalled: ", why, "; step 1: re-arming the accept");
                pl.l->recover_rearm();
                break;
            case 2:
                c.add(counter::recoveries_recreate);
                TB_LOG_ERROR("watchdog: listener '", name, "' still stalled: ", why,
                             "; step 2: re-creating the listening socket (its queued connections are kept)");
                pl.l->recover_recreate();
                break;
            default: {
                c.add(counter::recoveries_unrecoverable);
                const auto reason = "listener '" + name + "' accept path unrecoverable: " + why;
                {
                    std::lock_guard lock(health_mutex);
                    health = {false, reason};
                }
                total.set(counter::healthy, 0);
                TB_LOG_ERROR("watchdog: ", reason,
                             "; no accept completed through steps 1 and 2; step 3: reporting unhealthy");
                if (unrecoverable) unrecoverable(reason);
                return;
            }
        }
        // Verify the step soon rather than at the next interval.
        auto t = std::make_shared<asio::steady_timer>(strand, ms(std::min(cfg.probe_timeout_ms, 200u)));
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
