#include "metrics.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <unordered_set>

#include "core/accept/listener_state.hpp"

namespace tlsbroker::core {

namespace {

constexpr std::array<listener_state, 4> all_states{listener_state::stopped, listener_state::accepting,
                                                   listener_state::backing_off, listener_state::paused_at_limit};

std::string format_double(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    std::array<char, 64> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return std::string(buf.data(), res.ptr);
}

// The value of one counter as /status shows it.
nlohmann::json status_value(const counter_info& c, const counter_block& b, std::uint64_t now) {
    const auto v = b.get(c.id);
    if (c.kind == counter_kind::timestamp) return age_seconds(v, now);
    return v;
}

// The value of one counter as /metrics shows it.
std::string metric_value(const counter_info& c, const counter_block& b, std::uint64_t now) {
    const auto v = b.get(c.id);
    if (c.kind == counter_kind::timestamp) return format_double(age_seconds(v, now));
    if (c.unit == counter_unit::none) return std::to_string(v);
    return format_double(static_cast<double>(v) * seconds_per_unit(c.unit));
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

const char* type_name(counter_kind k) { return k == counter_kind::total ? "counter" : "gauge"; }

// Writes "# HELP" and "# TYPE" for one family. Help text escapes backslash and line feed.
void family_header(std::string& out, std::string_view name, std::string_view help, const char* type) {
    out += "# HELP ";
    out += name;
    out += ' ';
    for (const char ch : help) {
        if (ch == '\\')
            out += "\\\\";
        else if (ch == '\n')
            out += "\\n";
        else
            out += ch;
    }
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

// Writes one sample; `labels` are already formatted pairs joined by commas ("" for none).
void sample(std::string& out, std::string_view name, const std::string& labels, const std::string& value) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

std::string listener_label(const listener_view& l) { return "listener=\"" + escape_label_value(l.name) + "\""; }

std::string join_labels(std::string a, const char* b) {
    if (b == nullptr || *b == '\0') return a;
    if (a.empty()) return b;
    a += ',';
    a += b;
    return a;
}

void counter_families(std::string& out, const broker_view& view, std::uint64_t now) {
    const auto table = counter_table();
    std::unordered_set<std::string_view> done;
    for (const auto& first : table) {
        if (!done.insert(first.metric).second) continue;
        family_header(out, first.metric, first.help, type_name(first.kind));
        if (first.scope == counter_scope::broker) {
            if (view.total == nullptr) continue;
            for (const auto& c : table)
                if (std::string_view(c.metric) == first.metric)
                    sample(out, c.metric, join_labels("", c.label), metric_value(c, *view.total, now));
            continue;
        }
        for (const auto& l : view.listeners) {
            if (l.counters == nullptr) continue;
            const auto base = listener_label(l);
            for (const auto& c : table)
                if (std::string_view(c.metric) == first.metric)
                    sample(out, c.metric, join_labels(base, c.label), metric_value(c, *l.counters, now));
        }
    }
}

void broker_families(std::string& out, const broker_view& view, std::uint64_t now) {
    family_header(out, "tlsbroker_build_info", "Always 1; the version label names the build.", "gauge");
    sample(out, "tlsbroker_build_info", "version=\"" + escape_label_value(view.version) + "\"", "1");

    family_header(out, "tlsbroker_uptime_seconds", "Seconds since the broker started.", "gauge");
    const double up = now > view.started_unix_ms ? static_cast<double>(now - view.started_unix_ms) / 1000.0 : 0.0;
    sample(out, "tlsbroker_uptime_seconds", "", format_double(up));

    family_header(out, "tlsbroker_listener_max_connections", "Configured connection limit of the listener.", "gauge");
    for (const auto& l : view.listeners)
        sample(out, "tlsbroker_listener_max_connections", listener_label(l), std::to_string(l.max_connections));

    family_header(out, "tlsbroker_listener_state", "1 for the state the listener is in now, 0 for the others.",
                  "gauge");
    for (const auto& l : view.listeners) {
        const auto base = listener_label(l);
        bool known = false;
        for (const auto s : all_states) {
            const bool now_in = l.state == to_string(s);
            known = known || now_in;
            sample(out, "tlsbroker_listener_state", base + ",state=\"" + to_string(s) + "\"", now_in ? "1" : "0");
        }
        if (!known)
            sample(out, "tlsbroker_listener_state", base + ",state=\"" + escape_label_value(l.state) + "\"", "1");
    }
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        switch (ch) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += ch;
        }
    }
    return out;
}

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
        merge_extra(j, l.extra);
        listeners.push_back(std::move(j));
    }
    out["listeners"] = std::move(listeners);
    out["total"] = view.total ? counters_object(*view.total, now_unix_ms, true) : nlohmann::json::object();
    merge_extra(out, view.extra);
    return out;
}

std::string render_prometheus(const broker_view& view, std::uint64_t now_unix_ms) {
    std::string out;
    out.reserve(8192 + 4096 * view.listeners.size());
    broker_families(out, view, now_unix_ms);
    counter_families(out, view, now_unix_ms);
    return out;
}

std::string render_backend_prometheus(const std::vector<backend_view>& backends) {
    std::string up =
        "# HELP tlsbroker_backend_up 1 when the backend is taking connections, 0 while marked down.\n"
        "# TYPE tlsbroker_backend_up gauge\n";
    std::string cx =
        "# HELP tlsbroker_backend_connects_total Backend connects, by result.\n"
        "# TYPE tlsbroker_backend_connects_total counter\n";
    std::string down =
        "# HELP tlsbroker_backend_marked_down_total Times the backend was marked down.\n"
        "# TYPE tlsbroker_backend_marked_down_total counter\n";
    for (const auto& b : backends) {
        const auto labels =
            "listener=\"" + escape_label_value(b.listener) + "\",backend=\"" + escape_label_value(b.address) + "\"";
        up += "tlsbroker_backend_up{" + labels + "} " + (b.up ? "1" : "0") + "\n";
        cx += "tlsbroker_backend_connects_total{" + labels + ",result=\"ok\"} " + std::to_string(b.connects_ok) + "\n";
        cx += "tlsbroker_backend_connects_total{" + labels + ",result=\"failed\"} " +
              std::to_string(b.connects_failed) + "\n";
        down += "tlsbroker_backend_marked_down_total{" + labels + "} " + std::to_string(b.marked_down) + "\n";
    }
    return up + cx + down;
}

}  // namespace tlsbroker::core
