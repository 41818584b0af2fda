// The server's side of the certificate watch: a changed file is applied through reload(),
// the days left land in each listener's counter block (the total: the soonest), and the
// listeners serving a certificate outside its validity period are marked degraded.
#include <algorithm>
#include <limits>

#include "core/server/server_impl.hpp"

namespace tlsbroker::core {

void server::impl::start_cert_watch(server& owner) {
    cert_watch_hooks h;
    h.current = [&owner] { return owner.current_config(); };
    h.apply = [&owner](const config::config_ptr& cfg) {
        // A copy, so the server sees a new config and rebuilds every TLS context from the files.
        const auto r = owner.reload(std::make_shared<const config::broker_config>(*cfg));
        std::string why;
        for (const auto& e : r.errors) why += (why.empty() ? "" : "; ") + e;
        return r.ok ? std::string() : why;
    };
    h.expiry_days = [this](const std::map<std::string, std::uint64_t>& days) {
        std::lock_guard lock(mu);
        auto soonest = std::numeric_limits<std::uint64_t>::max();
        for (const auto& [name, d] : days) {
            block_for(name).set(counter::certificate_expiry_days, d);
            soonest = std::min(soonest, d);
        }
        total.set(counter::certificate_expiry_days, days.empty() ? 0 : soonest);
    };
    h.degraded = [this](const std::map<std::string, std::string>& why) {
        std::lock_guard lock(mu);
        degraded = why;
        for (const auto& [name, block] : blocks) block->set(counter::listener_degraded, why.count(name));
        total.set(counter::listener_degraded, why.size());
    };
    certs = std::make_unique<cert_watch>(ioc, std::move(h), total);
    certs->start();
}

}  // namespace tlsbroker::core
