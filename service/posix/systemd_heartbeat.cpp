#include "service/posix/systemd_heartbeat.hpp"

#include "core/common/log.hpp"

namespace tlsbroker::service {

// What a posted check needs: it may run after the heartbeat object is gone.
struct systemd_heartbeat::shared {
    shared(core::counter_block& t, sd_notifier& n) : total(t), notifier(n) {}

    core::counter_block& total;
    sd_notifier& notifier;
    std::atomic<bool> in_flight{false};
    std::atomic<bool> stopped{false};
    std::atomic<std::uint64_t> checks{0};
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> withheld{0};

    void check() {
        checks.fetch_add(1, std::memory_order_relaxed);
        if (!stopped.load()) {
            if (decide_heartbeat(total) == heartbeat_verdict::send) {
                if (notifier.send("WATCHDOG=1")) sent.fetch_add(1, std::memory_order_relaxed);
            } else {
                total.add(core::counter::service_heartbeats_withheld);
                if (withheld.fetch_add(1, std::memory_order_relaxed) == 0)
                    notifier.send(status_field("accept path unrecoverable; WATCHDOG=1 withheld so systemd restarts"));
                log::limited(log::level::error, "systemd-watchdog-withheld",
                             "systemd: WATCHDOG=1 withheld: the watchdog gave an accept path up as unrecoverable "
                             "(/healthz says which); systemd restarts the broker once WatchdogSec= passes");
            }
        }
        in_flight.store(false);
    }
};

heartbeat_verdict decide_heartbeat(const core::counter_block& total) {
    // The gauge starts at 1 and only the watchdog's last recovery step sets it to 0.
    return total.get(core::counter::healthy) == 0 ? heartbeat_verdict::withhold_unrecoverable : heartbeat_verdict::send;
}

systemd_heartbeat::systemd_heartbeat(boost::asio::io_context& timer_ioc, std::chrono::microseconds period,
                                     poster post_to_broker, core::counter_block& total, sd_notifier& notifier)
    : timer_(timer_ioc),
      period_(period),
      post_(std::move(post_to_broker)),
      shared_(std::make_shared<shared>(total, notifier)) {}

systemd_heartbeat::~systemd_heartbeat() { stop(); }

void systemd_heartbeat::start() {
    TB_LOG_INFO("systemd: watchdog heartbeat every ",
                std::chrono::duration_cast<std::chrono::milliseconds>(period_).count(), " ms");
    arm();
}

void systemd_heartbeat::stop() {
    shared_->stopped.store(true);
    timer_.cancel();
}

void systemd_heartbeat::arm() {
    timer_.expires_after(period_);
    timer_.async_wait([this, s = shared_](const boost::system::error_code& ec) {
        if (ec || s->stopped.load()) return;  // stopped: `this` may be gone
        // One check queued at a time: a wedged event loop gets no pile of them, and no heartbeat.
        if (!s->in_flight.exchange(true)) post_([s] { s->check(); });
        arm();
    });
}

std::uint64_t systemd_heartbeat::checks() const { return shared_->checks.load(std::memory_order_relaxed); }
std::uint64_t systemd_heartbeat::sent() const { return shared_->sent.load(std::memory_order_relaxed); }
std::uint64_t systemd_heartbeat::withheld() const { return shared_->withheld.load(std::memory_order_relaxed); }

}  // namespace tlsbroker::service
