#include "metrics.hpp"

#include <array>
#include <unordered_set>

#include "core/accept/listener_state.hpp"

namespace tlsbroker::core {

namespace {

constexpr std::array<listener_state, 4> all_states{listener_state::stopped, listener_state::accepting,
                                                   listener_state::backing_off, listener_state::paused_at_limit};

// The value of one counter as /status shows it.
nlohmann::json status_value(const counter_info& c, const counter_block& b, std::uint64_t now) {
    const auto v = b.get(c.id);
    if (c.kind == counter_kind::timestamp) return age_seconds(v, now);
    return v;
}

// One counter's sample as /metrics shows it.
void metric_sample(prometheus_text& out, const counter_info& c, const metric_labels& labels, const counter_block& b,
                   std::uint64_t now) {
    const auto v = b.get(c.id);
    if (c.kind == counter_kind::timestamp)
        out.sample(c.metric, labels, age_seconds(v, now));
    else if (c.unit == counter_unit::none)
        out.sample(c.metric, labels, v);
    else
        out.sample(c.metric, labels, static_cast<double>(v) * seconds_per_unit(c.unit));
}

nlohmann::json counters_object(const counter_block& b, std::uint64_t now, bool broker_scope_too) {
    auto out = nlohmann::json::object();
    for (const auto& c : counter_table()) {
        if (c.scope == counter_scope::broker && !broker_scope_too) continue;
        out[c.key] = status_value(c, b, now);
    }
    return out;
}

void merge_extra(nlohmann::json& target, const nlohmann::json& extra) {
    if (!extra.is_object()) return;
    for (auto it = extra.begin(); it != extra.end(); ++it) target[it.key()] = it.value();
}

metric_type type_of(counter_kind k) { return k == counter_kind::total ? metric_type::counter : metric_type::gauge; }

metric_labels listener_label(const listener_view& l) { return metric_labels().add("listener", l.name); }

void counter_families(prometheus_text& out, const broker_view& view, std::uint64_t now) {
    const auto table = counter_table();
    std::unordered_set<std::string_view> done;
    for (const auto& first : table) {
        if (!done.insert(first.metric).second) continue;
        out.family(first.metric, first.help, type_of(first.kind));
        if (first.scope == counter_scope::broker) {
            if (view.total == nullptr) continue;
            for (const auto& c : table)
                if (std::string_view(c.metric) == first.metric)
                    metric_sample(out, c, metric_labels().raw(c.label), *view.total, now);
            continue;
        }
        for (const auto& l : view.listeners) {
            if (l.counters == nullptr) continue;
            for (const auto& c : table)
                if (std::string_view(c.metric) == first.metric)
                    metric_sample(out, c, listener_label(l).raw(c.label), *l.counters, now);
        }
    }
}

void histogram_families(prometheus_text& out, const broker_view& view) {
    const auto table = histogram_table();
    std::unordered_set<std::string_view> done;
    for (const auto& first : table) {
        if (!done.insert(first.metric).second) continue;
        out.family(first.metric, first.help, metric_type::histogram);
        for (const auto& l : view.listeners) {
            if (l.histograms == nullptr) continue;
            for (const auto& h : table) {
                if (std::string_view(h.metric) != first.metric) continue;
                const auto counts = l.histograms->read(h.id);
                out.histogram(h.metric, listener_label(l).raw(h.label), h.bounds,
                              std::span(counts.buckets.data(), h.bounds.size() + 1), counts.sum,
                              histogram_divisor(h.unit));
            }
        }
    }
}

// p50/p90/p99 of each histogram over the last minute, in seconds or bytes.
nlohmann::json latency_object(const histogram_block& b, std::uint64_t now) {
    const auto w = b.last_window(now);
    auto out = nlohmann::json::object();
    out["window_s"] = w.seconds;
    for (const auto& h : histogram_table()) {
        const auto& counts = w.counts[static_cast<std::size_t>(h.id)];
        auto j = nlohmann::json::object();
        j["count"] = counts.count();
        for (const auto& [name, q] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9}, std::pair{"p99", 0.99}}) {
            const auto v = quantile(counts, h.bounds, q);
            j[name] = v ? nlohmann::json(*v / histogram_divisor(h.unit)) : nlohmann::json();
        }
        out[h.key] = std::move(j);
    }
    return out;
}

// Named and helped as the Prometheus client libraries do, so dashboards made for them work.
void process_families(prometheus_text& out, const process_stats& p) {
    const auto one = [&out](const char* name, const char* help, metric_type type, const std::optional<double>& v) {
        if (!v) return;
        out.family(name, help, type);
        out.sample(name, {}, *v);
    };
    one("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", metric_type::counter,
        p.cpu_seconds);
    one("process_open_fds", "Number of open file descriptors (on Windows: handles).", metric_type::gauge, p.open_fds);
    one("process_max_fds", "Maximum number of open file descriptors (on Windows: handles).", metric_type::gauge,
        p.max_fds);
    one("process_resident_memory_bytes", "Resident memory size in bytes (on Windows: the working set).",
        metric_type::gauge, p.resident_bytes);
    one("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", metric_type::gauge,
        p.start_time_unix);
}

void broker_families(prometheus_text& out, const broker_view& view, std::uint64_t now) {
    out.family("tlsbroker_build_info", "Always 1; the version label names the build.", metric_type::gauge);
    out.sample("tlsbroker_build_info", metric_labels().add("version", view.version), std::uint64_t{1});

    out.family("tlsbroker_uptime_seconds", "Seconds since the broker started.", metric_type::gauge);
    const double up = now > view.started_unix_ms ? static_cast<double>(now - view.started_unix_ms) / 1000.0 : 0.0;
    out.sample("tlsbroker_uptime_seconds", {}, up);

    out.family("tlsbroker_listener_max_connections", "Configured connection limit of the listener.",
               metric_type::gauge);
    for (const auto& l : view.listeners)
        out.sample("tlsbroker_listener_max_connections", listener_label(l), l.max_connections);

    out.family("tlsbroker_listener_state", "1 for the state the listener is in now, 0 for the others.",
               metric_type::gauge);
    for (const auto& l : view.listeners) {
        bool known = false;
        for (const auto s : all_states) {
            const bool now_in = l.state == to_string(s);
            known = known || now_in;
            out.sample("tlsbroker_listener_state", listener_label(l).add("state", to_string(s)),
                       std::uint64_t{now_in ? 1u : 0u});
        }
        if (!known) out.sample("tlsbroker_listener_state", listener_label(l).add("state", l.state), std::uint64_t{1});
    }
}

}  // namespace

double age_seconds(std::uint64_t stamp_unix_ms, std::uint64_t now_unix_ms) {
    if (stamp_unix_ms == 0) return -1.0;
    if (now_unix_ms <= stamp_unix_ms) return 0.0;
    return static_cast<double>(now_unix_ms - stamp_unix_ms) / 1000.0;
}

namespace {

// ok / slow / stalled, with the counts behind them: an operator reading /status during a
// reconnect storm sees "slow" (overload, nothing done) rather than a puzzling failure.
nlohmann::json watchdog_object(const listener_view& l) {
    auto probes = nlohmann::json::object();
    if (l.counters) {
        probes["ok"] = l.counters->get(counter::probes_ok);
        probes["slow"] = l.counters->get(counter::probes_slow);
        probes["failed"] = l.counters->get(counter::probes_failed);
    }
    auto outcomes = nlohmann::json::object();
    for (const auto o : {probe_outcome::ok, probe_outcome::slow, probe_outcome::stalled})
        outcomes[to_string(o)] = meaning(o);
    return {{"last_probe", to_string(l.last_probe)}, {"probes", std::move(probes)}, {"outcomes", std::move(outcomes)}};
}

}  // namespace

nlohmann::json render_status(const broker_view& view, std::uint64_t now_unix_ms) {
    auto out = nlohmann::json::object();
    out["version"] = view.version;
    out["uptime_s"] = now_unix_ms > view.started_unix_ms ? (now_unix_ms - view.started_unix_ms) / 1000 : 0;
    out["healthy"] = view.healthy;
    out["health_reason"] = view.health_reason;

    auto listeners = nlohmann::json::array();
    for (const auto& l : view.listeners) {
        auto j = nlohmann::json::object();
        j["name"] = l.name;
        j["listen"] = l.listen;
        j["state"] = l.state;
        j["max_connections"] = l.max_connections;
        j["counters"] = l.counters ? counters_object(*l.counters, now_unix_ms, false) : nlohmann::json::object();
        if (l.watchdog_on) j["watchdog"] = watchdog_object(l);
        if (l.histograms) j["latency"] = latency_object(*l.histograms, now_unix_ms);
        merge_extra(j, l.extra);
        listeners.push_back(std::move(j));
    }
    out["listeners"] = std::move(listeners);
    out["total"] = view.total ? counters_object(*view.total, now_unix_ms, true) : nlohmann::json::object();
    merge_extra(out, view.extra);
    return out;
}

std::string render_prometheus(const broker_view& view, std::uint64_t now_unix_ms) {
    prometheus_text out;
    broker_families(out, view, now_unix_ms);
    counter_families(out, view, now_unix_ms);
    histogram_families(out, view);
    if (view.process) process_families(out, *view.process);
    return out.take();
}

std::string render_backend_prometheus(const std::vector<backend_view>& backends) {
    prometheus_text out;
    const auto labels = [](const backend_view& b) {
        return metric_labels().add("listener", b.listener).add("backend", b.address);
    };
    out.family("tlsbroker_backend_up", "1 when the backend is taking connections, 0 while marked down.",
               metric_type::gauge);
    for (const auto& b : backends) out.sample("tlsbroker_backend_up", labels(b), std::uint64_t{b.up ? 1u : 0u});
    out.family("tlsbroker_backend_connects_total", "Backend connects, by result.", metric_type::counter);
    for (const auto& b : backends) {
        out.sample("tlsbroker_backend_connects_total", labels(b).raw("result=\"ok\""), b.connects_ok);
        out.sample("tlsbroker_backend_connects_total", labels(b).raw("result=\"failed\""), b.connects_failed);
    }
    out.family("tlsbroker_backend_marked_down_total", "Times the backend was marked down.", metric_type::counter);
    for (const auto& b : backends) out.sample("tlsbroker_backend_marked_down_total", labels(b), b.marked_down);
    return out.take();
}

}  // namespace tlsbroker::core
