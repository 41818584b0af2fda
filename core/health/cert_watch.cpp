#include "core/health/cert_watch.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <set>

#include "config/cert_store.hpp"
#include "config/json_reader.hpp"
#include "config/tls_checks.hpp"
#include "core/common/log.hpp"
#include "core/status/metrics.hpp"
#include "core/status/prometheus_text.hpp"

namespace tlsbroker::core {

namespace {

constexpr std::int64_t idle_check_s = 3600;  // with reload_check_s 0: expiry and CRL nextUpdate checks only

std::string join(const std::vector<std::filesystem::path>& files) {
    std::string out;
    for (const auto& f : files) out += (out.empty() ? "" : ", ") + f.string();
    return out;
}

nlohmann::json file_list(const std::vector<std::filesystem::path>& files) {
    auto a = nlohmann::json::array();
    for (const auto& f : files) a.push_back(f.string());
    return a;
}

}  // namespace

file_fingerprint fingerprint(const std::filesystem::path& file) {
    file_fingerprint f;
    std::string content;
    if (!config::read_file(file, content).empty()) return f;
    std::error_code ec;
    const auto t = std::filesystem::last_write_time(file, ec);
    f.readable = true;
    f.size = content.size();
    f.mtime = ec ? 0 : static_cast<std::int64_t>(t.time_since_epoch().count());
    f.hash = std::hash<std::string>{}(content);
    return f;
}

std::vector<std::filesystem::path> watched_files(const config::broker_config& cfg) {
    std::vector<std::filesystem::path> out;
    const auto add = [&](const std::filesystem::path& p) {
        if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    };
    for (const auto& l : cfg.listeners) {
        add(l.tls.certificate);
        add(l.tls.private_key);
        add(l.tls.certificate_password_file);
        for (const auto& s : l.tls.sni) {
            add(s.certificate);
            add(s.private_key);
            add(s.certificate_password_file);
        }
        add(l.tls.client_ca);
        add(l.tls.crl);
    }
    return out;
}

file_fingerprint store_fingerprint(const config::store_reference& ref) {
    file_fingerprint f;
    std::string problem;
    const auto thumbprint = config::current_thumbprint(ref, problem);
    f.readable = !thumbprint.empty();
    f.hash = std::hash<std::string>{}(thumbprint);
    return f;
}

std::map<std::filesystem::path, file_fingerprint> fingerprints(const config::broker_config& cfg) {
    std::map<std::filesystem::path, file_fingerprint> out;
    for (const auto& f : watched_files(cfg)) out[f] = fingerprint(f);
    const auto add = [&](const config::store_reference& r) {
        if (r.used() && !out.contains(r.text())) out[r.text()] = store_fingerprint(r);
    };
    for (const auto& l : cfg.listeners) {
        add(l.tls.certificate_store);
        for (const auto& s : l.tls.sni) add(s.certificate_store);
    }
    return out;
}

cert_watch::cert_watch(boost::asio::io_context& ioc, cert_watch_hooks hooks, counter_block& total)
    : hooks_(std::move(hooks)), total_(total), ioc_(ioc), timer_(ioc) {}

cert_watch::~cert_watch() { stop(); }

void cert_watch::start() {
    std::lock_guard lock(life_->mu);
    if (!life_->alive) return;
    run_pass();
    arm();
}

void cert_watch::request_stop() {
    std::lock_guard lock(life_->mu);
    life_->alive = false;
    timer_.cancel();
}

void cert_watch::stop() { request_stop(); }

void cert_watch::config_changed() {
    boost::asio::post(ioc_, [this, l = life_] {
        std::lock_guard lock(l->mu);
        if (!l->alive) return;
        run_pass();
        arm();
    });
}

void cert_watch::arm() {
    const auto mine = ++armed_;
    timer_.expires_after(next_wait());  // a wait still pending ends with operation_aborted
    timer_.async_wait([this, l = life_, mine](const boost::system::error_code&) {
        std::lock_guard lock(l->mu);
        if (!l->alive || mine != armed_) return;  // stopped, or re-armed by config_changed()
        run_pass();
        arm();
    });
}

void cert_watch::run_pass() {
    try {
        pass();
    } catch (const std::exception& e) {
        log::limited(log::level::error, "cert-watch:exception", log::str("certificate watch: ", e.what()));
    }
}

std::chrono::seconds cert_watch::next_wait() const {
    const auto cfg = seen_;
    std::int64_t wait = cfg && cfg->tls.reload_check_s > 0 ? cfg->tls.reload_check_s : idle_check_s;
    // A CRL is re-read right after its nextUpdate, whatever the check interval.
    const auto now = unix_now();
    // A stale one is looked for at least once a minute until a fresh file is there.
    // A certificate that expires or becomes valid is reported at that second, not at the next check.
    for (const auto& c : certs_) {
        if (!c.leaf.ok) continue;
        if (c.leaf.not_after > now) wait = std::min(wait, c.leaf.not_after - now + 1);
        if (c.leaf.not_before > now) wait = std::min(wait, c.leaf.not_before - now + 1);
    }
    for (const auto& c : crls_) {
        if (c.facts.next_update > now)
            wait = std::min(wait, c.facts.next_update - now + 1);
        else if (c.facts.next_update != 0)
            wait = std::min<std::int64_t>(wait, 60);
    }
    return std::chrono::seconds(std::max<std::int64_t>(wait, 1));
}

void cert_watch::pass() {
    const auto cfg = hooks_.current ? hooks_.current() : nullptr;
    if (!cfg) return;
    const auto now = unix_now();
    if (cfg != seen_)
        take_stock(cfg);
    else if (cfg->tls.reload_check_s > 0 || crl_due(now))
        look_for_changes(cfg);
    check_expiry(now);
    check_crls(now);
    ++passes_;
    publish();
}

void cert_watch::take_stock(const config::config_ptr& cfg) {
    seen_ = cfg;
    loaded_.clear();
    refused_.clear();
    settling_.clear();
    loaded_ = fingerprints(*cfg);
    last_seen_ = loaded_;
    const auto before = std::move(certs_);
    certs_.clear();
    std::vector<crl_entry> crls;
    for (const auto& l : cfg->listeners) {
        certs_.push_back(
            {l.name, "default", l.tls.source().label(), read_leaf(l.tls.source()), l.tls.certificate_store.used()});
        for (const auto& s : l.tls.sni)
            certs_.push_back({l.name,
                              s.server_names.empty() ? s.certificate.filename().string() : s.server_names.front(),
                              s.source().label(), read_leaf(s.source()), s.certificate_store.used()});
        if (l.tls.crl.empty() ||
            std::any_of(crls.begin(), crls.end(), [&](const auto& c) { return c.file == l.tls.crl; }))
            continue;
        crl_entry c{l.tls.crl, read_crl(l.tls.crl)};
        // The listeners have just loaded it: that is the load counted here.
        count(c.facts.ok ? counter::crl_loads_ok : counter::crl_loads_failed);
        if (!c.facts.ok) log::limited(log::level::warning, "cert-watch:crl", "certificate watch: " + c.facts.error);
        crls.push_back(std::move(c));
    }
    crls_ = std::move(crls);
    log_switches(before);
    std::map<std::string, std::int64_t> in_use;
    for (const auto& c : certs_)
        if (c.leaf.ok) in_use[c.file.string()] = c.leaf.not_after;
    warnings_.keep_only(in_use);
}

void cert_watch::look_for_changes(const config::config_ptr& cfg) {
    std::map<std::filesystem::path, file_fingerprint> now_seen;
    std::vector<std::filesystem::path> changed;
    bool settling = false;
    for (const auto& [f, fp] : fingerprints(*cfg)) {
        now_seen[f] = fp;
        if (fp == loaded_[f]) continue;
        changed.push_back(f);
        if (fp != last_seen_[f]) settling = true;  // still being written, or just replaced
    }
    last_seen_ = now_seen;
    if (changed.empty()) {
        settling_.clear();
        refused_.clear();
        return;
    }
    if (settling) {
        settling_ = changed;
        TB_LOG_DEBUG("certificate watch: ", join(changed), " changed; loading once unchanged for one check");
        return;
    }
    settling_.clear();
    // The same content was refused before: it was reported then.
    std::map<std::filesystem::path, file_fingerprint> attempt;
    for (const auto& f : changed) attempt[f] = now_seen[f];
    if (attempt == refused_) return;

    bool crl_changed = false;
    for (const auto& l : cfg->listeners)
        if (!l.tls.crl.empty() && attempt.contains(l.tls.crl)) crl_changed = true;
    std::vector<std::string> problems;
    for (const auto& e : config::check_tls_files(*cfg)) problems.push_back(e.to_string());
    if (problems.empty() && hooks_.apply)
        if (const auto why = hooks_.apply(cfg); !why.empty()) problems.push_back(why);
    if (!problems.empty()) {
        refused_ = std::move(attempt);
        return refused(changed, problems, crl_changed);
    }
    last_pickup_ = {{"unix_ms", unix_ms_now()}, {"ok", true}, {"files", file_list(changed)}};
    TB_LOG_WARN("certificate watch: picked up ", join(changed),
                "; new handshakes use them, open connections keep theirs");
    if (const auto next = hooks_.current ? hooks_.current() : nullptr; next && next != seen_) take_stock(next);
    count(counter::certificate_reloads_ok);
    publish();
}

void cert_watch::refused(const std::vector<std::filesystem::path>& files, const std::vector<std::string>& problems,
                         bool crl_among_them) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    last_pickup_ = {{"unix_ms", unix_ms_now()}, {"ok", false}, {"files", file_list(files)}, {"errors", problems}};
    log::limited(log::level::warning, "cert-watch:refused",
                 log::str("certificate watch: ", join(files), " changed but cannot be used (", all,
                          "); the running certificates stay in force"));
    if (crl_among_them) count(counter::crl_loads_failed);
    count(counter::certificate_reloads_failed);
    publish();
}

void cert_watch::log_switches(const std::vector<cert_entry>& before) {
    for (const auto& now : certs_)
        for (const auto& was : before) {
            if (was.listener != now.listener || was.name != now.name || !was.leaf.ok || !now.leaf.ok ||
                was.leaf.sha256 == now.leaf.sha256)
                continue;
            const bool store = now.store && was.file == now.file;  // one reference, another certificate
            const auto name = [&](const cert_entry& c) {
                return log::str(store ? "thumbprint " + c.leaf.thumbprint : c.leaf.sha256, " (", c.leaf.subject,
                                ", not after ", format_utc(c.leaf.not_after), ")");
            };
            if (store) count(counter::certificate_store_switches);
            const auto where = store ? log::str("' (", now.name, "): ", now.file.string(), " switched from ")
                                     : log::str("' (", now.name, ") switched certificate from ");
            log::write_event(log::event::certificate_switched,
                             {{"listener", now.listener}, {"old", name(was)}, {"new", name(now)}},
                             log::str("certificate watch: listener '", now.listener, where, name(was), " to ",
                                      name(now), "; new handshakes use it, open connections keep theirs"));
        }
}

void cert_watch::report_degraded(std::int64_t now) {
    std::map<std::string, std::string> degraded;
    for (const auto& c : certs_) {
        if (!c.leaf.ok || (now < c.leaf.not_after && now >= c.leaf.not_before)) continue;
        auto why = log::str("certificate ", c.file.string(), " (", c.name, ", ", c.leaf.subject, ") ",
                            now >= c.leaf.not_after ? "expired at " + format_utc(c.leaf.not_after)
                                                    : "is not valid before " + format_utc(c.leaf.not_before));
        auto& all = degraded[c.listener];
        all += (all.empty() ? "" : "; ") + why;
    }
    for (const auto& [listener, why] : degraded)
        log::limited(log::level::error, "cert-watch:degraded:" + listener,
                     log::str("listener '", listener, "' is degraded: ", why,
                              "; it goes on serving it, and clients that check dates refuse it: replace the file "
                              "(picked up without a restart)"));
    if (hooks_.degraded) hooks_.degraded(degraded);
}

void cert_watch::check_expiry(std::int64_t now) {
    report_degraded(now);
    std::map<std::string, std::uint64_t> days;
    for (const auto& c : certs_) {
        if (!c.leaf.ok) continue;
        const auto d = days_left(c.leaf.not_after, now);
        auto [it, fresh] = days.emplace(c.listener, d);
        if (!fresh) it->second = std::min(it->second, d);
        const auto t = warnings_.check(c.file.string(), c.leaf.not_after, now);
        if (t == 0) continue;
        count(counter::certificate_expiry_warnings);
        const auto what = log::str("certificate ", c.file.string(), " (listener '", c.listener, "', ", c.name, ", ",
                                   c.leaf.subject, ", serial ", c.leaf.serial, ")");
        const auto certificate = log::str(c.file.string(), " (", c.name, ", ", c.leaf.subject, ")");
        if (t < 0)
            log::write_event(
                log::event::certificate_expired,
                {{"listener", c.listener}, {"certificate", certificate}, {"not_after", format_utc(c.leaf.not_after)}},
                log::str(what, " expired at ", format_utc(c.leaf.not_after),
                         ": clients refuse it; replace the file (it is picked up without a restart)"));
        else
            log::write_event(log::event::certificate_expiring,
                             {{"listener", c.listener},
                              {"certificate", certificate},
                              {"days", std::to_string(t)},
                              {"not_after", format_utc(c.leaf.not_after)}},
                             log::str(what, " expires in less than ", t, t == 1 ? " day" : " days", " (at ",
                                      format_utc(c.leaf.not_after), "): renew it"));
    }
    if (hooks_.expiry_days) hooks_.expiry_days(days);
}

bool cert_watch::crl_due(std::int64_t now) const {
    return std::any_of(crls_.begin(), crls_.end(), [&](const crl_entry& c) {
        return c.facts.next_update != 0 && now >= c.facts.next_update;  // re-read until a fresh one is there
    });
}

void cert_watch::check_crls(std::int64_t now) {
    for (auto& c : crls_) {
        if (c.facts.next_update == 0 || now < c.facts.next_update || c.stale_reported) continue;
        c.stale_reported = true;
        count(counter::crl_stale);
        log::limited(log::level::warning, "cert-watch:crl-stale:" + c.file.string(),
                     log::str("certificate watch: CRL ", c.file.string(), " passed its nextUpdate (",
                              format_utc(c.facts.next_update),
                              ") and no newer file is there; client certificates it covers fail verification "
                              "until a fresh CRL is written"));
    }
}

void cert_watch::publish() {
    const auto cfg = seen_;
    auto crls = nlohmann::json::array();
    for (const auto& c : crls_) {
        nlohmann::json j = {
            {"file", c.file.string()}, {"ok", c.facts.ok}, {"revoked", c.facts.revoked}, {"stale", c.stale_reported}};
        j["next_update"] = c.facts.next_update ? nlohmann::json(format_utc(c.facts.next_update)) : nlohmann::json();
        if (!c.facts.ok) j["error"] = c.facts.error;
        crls.push_back(std::move(j));
    }
    nlohmann::json s = {{"reload_check_s", cfg ? cfg->tls.reload_check_s : 0},
                        {"checks", passes_},
                        {"last_check_unix_ms", unix_ms_now()},
                        {"settling", file_list(settling_)},
                        {"last_pickup", last_pickup_},
                        {"crls", std::move(crls)}};
    {
        std::lock_guard lock(pub_mu_);
        pub_certs_ = certs_;
        pub_status_ = std::move(s);
    }
    // Counted only now: whoever sees a count also sees what it counted in status().
    for (const auto c : uncounted_) total_.add(c);
    uncounted_.clear();
}

nlohmann::json cert_watch::status() const {
    std::lock_guard lock(pub_mu_);
    return pub_status_;
}

nlohmann::json cert_watch::certificates(const std::string& listener) const {
    const auto now = unix_now();
    auto out = nlohmann::json::array();
    std::lock_guard lock(pub_mu_);
    for (const auto& c : pub_certs_) {
        if (c.listener != listener) continue;
        nlohmann::json j = {{"name", c.name}, {"file", c.file.string()}};
        if (!c.leaf.ok) {
            j["error"] = c.leaf.error;
        } else {
            j["subject"] = c.leaf.subject;
            j["serial"] = c.leaf.serial;
            j["not_after"] = format_utc(c.leaf.not_after);
            j["expires_in_s"] = c.leaf.not_after - now;
            j["days_left"] = days_left(c.leaf.not_after, now);
        }
        out.push_back(std::move(j));
    }
    return out;
}

std::string cert_watch::metrics() const {
    const auto now = unix_now();
    constexpr std::string_view family = "tlsbroker_certificate_expiry_seconds";
    prometheus_text out;
    out.family(family,
               "Seconds until the certificate expires (negative once expired); name is \"default\" or the SNI "
               "entry's first server name.",
               metric_type::gauge);
    std::lock_guard lock(pub_mu_);
    for (const auto& c : pub_certs_) {
        if (!c.leaf.ok) continue;
        out.sample(family, metric_labels().add("listener", c.listener).add("name", c.name),
                   static_cast<double>(c.leaf.not_after - now));
    }
    return out.take();
}

}  // namespace tlsbroker::core
