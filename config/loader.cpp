#include "config/loader.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "config/json_reader.hpp"
#include "config/tls_checks.hpp"

namespace tlsbroker::config {

namespace {

void read_tls(json_object o, tls_config& t, const std::filesystem::path& base, std::vector<config_error>& errors) {
    o.file("certificate", t.certificate, base, true);
    o.file("private_key", t.private_key, base, true);
    if (!t.certificate.empty() && !t.private_key.empty())
        if (auto p = check_certificate_and_key(t.certificate, t.private_key); !p.empty()) o.error("certificate", p);
    o.choice("min_version", t.min_version, {"1.2", "1.3"});
    o.text("ciphers", t.ciphers);
    if (!t.ciphers.empty())
        if (auto p = check_ciphers(t.ciphers); !p.empty()) o.error("ciphers", p);
    o.text("ciphersuites", t.ciphersuites);
    if (!t.ciphersuites.empty())
        if (auto p = check_ciphersuites(t.ciphersuites); !p.empty()) o.error("ciphersuites", p);
    o.boolean("session_tickets", t.session_tickets);
    o.u32("session_cache_size", t.session_cache_size, 0, 10000000);
    o.u32("session_timeout_s", t.session_timeout_s, 1, 604800);
    if (const auto* sni = o.array("sni")) {
        for (std::size_t i = 0; i < sni->size(); ++i) {
            json_object e(&(*sni)[i], o.at("sni") + "/" + std::to_string(i), errors);
            sni_certificate s;
            if (const auto* names = e.array("server_names", true)) {
                for (std::size_t k = 0; k < names->size(); ++k) {
                    const auto& n = (*names)[k];
                    if (!n.is_string() || n.get<std::string>().empty())
                        e.error("server_names/" + std::to_string(k), "must be a non-empty string");
                    else
                        s.server_names.push_back(n.get<std::string>());
                }
                if (names->empty()) e.error("server_names", "must list at least one name");
            }
            e.file("certificate", s.certificate, base, true);
            e.file("private_key", s.private_key, base, true);
            if (!s.certificate.empty() && !s.private_key.empty())
                if (auto p = check_certificate_and_key(s.certificate, s.private_key); !p.empty())
                    e.error("certificate", p);
            e.finish();
            t.sni.push_back(std::move(s));
        }
    }
    o.boolean("refuse_unknown_sni", t.refuse_unknown_sni);
    o.file("client_ca", t.client_ca, base, false);
    if (!t.client_ca.empty())
        if (auto p = check_ca_file(t.client_ca); !p.empty()) o.error("client_ca", p);
    o.choice("verify_client", t.verify_client, {"none", "optional", "required"});
    if (t.verify_client != "none" && t.client_ca.empty() && o.present())
        o.error("verify_client", "needs tls.client_ca");
    o.file("crl", t.crl, base, false);
    if (!t.crl.empty())
        if (auto p = check_crl_file(t.crl); !p.empty()) o.error("crl", p);
    o.u32("verify_depth", t.verify_depth, 1, 100);
    o.finish();
}

void read_backend(json_object o, backend_config& b) {
    o.address("address", b.address, false, true);
    o.u32("connect_timeout_ms", b.connect_timeout_ms, 1, 600000);
    o.finish();
}

void read_listener(json_object o, listener_config& l, std::size_t index, const std::filesystem::path& base,
                   std::vector<config_error>& errors) {
    l.name = "listener" + std::to_string(index);
    o.text("name", l.name);
    if (l.name.empty() || l.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                              std::string::npos)
        o.error("name", "must be non-empty and use only letters, digits, '_', '.' and '-'");
    o.address("listen", l.listen, true, true);
    o.u32("backlog", l.backlog, 1, 65535);
    o.u32("max_connections", l.max_connections, 1, 1000000);
    if (auto tls = o.child("tls"); tls.present())
        read_tls(tls, l.tls, base, errors);
    else if (o.present())
        o.error("tls", "is required");

    auto single = o.child("backend");
    const auto* several = o.array("backends");
    if (single.present() && several != nullptr) o.error("backends", "use either \"backend\" or \"backends\", not both");
    if (single.present()) {
        read_backend(single, l.backend);
        l.backends = {l.backend};
    } else if (several != nullptr) {
        if (several->empty()) o.error("backends", "must list at least one backend");
        for (std::size_t i = 0; i < several->size(); ++i) {
            backend_config b;
            read_backend(json_object(&(*several)[i], o.at("backends") + "/" + std::to_string(i), errors), b);
            l.backends.push_back(b);
        }
        if (!l.backends.empty()) l.backend = l.backends.front();
    } else {
        o.error("backend", "is required (or \"backends\")");
    }
    o.choice("backend_policy", l.backend_policy, {"first", "round_robin"});
    auto bh = o.child("backend_health");
    bh.u32("fail_threshold", l.backend_health.fail_threshold, 1, 1000);
    bh.u32("cooldown_ms", l.backend_health.cooldown_ms, 1, 86400000);
    bh.u32("check_interval_ms", l.backend_health.check_interval_ms, 0, 3600000);
    bh.finish();
    o.choice("proxy_protocol", l.proxy_protocol, {"none", "v1", "v2"});
    o.u32("max_connections_per_source", l.source_limits.max_connections_per_source, 0, 1000000);
    o.u32("source_rate_per_second", l.source_limits.rate_per_source, 0, 1000000);
    o.u32("source_rate_burst", l.source_limits.rate_burst, 1, 1000000);
    o.boolean("connection_log", l.connection_log);

    auto t = o.child("timeouts");
    t.u32("handshake_ms", l.timeouts.handshake_ms, 1, 600000);
    t.u32("idle_ms", l.timeouts.idle_ms, 0, 86400000);
    t.u32("write_stall_ms", l.timeouts.write_stall_ms, 1, 86400000);
    t.u32("drain_ms", l.timeouts.drain_ms, 0, 3600000);
    t.u32("half_close_ms", l.timeouts.half_close_ms, 1, 86400000);
    t.finish();
    auto k = o.child("keepalive");
    k.boolean("enabled", l.keepalive.enabled);
    k.u32("idle_s", l.keepalive.idle_s, 1, 86400);
    k.u32("interval_s", l.keepalive.interval_s, 1, 3600);
    k.u32("count", l.keepalive.count, 1, 100);
    k.finish();
    o.finish();
}

void read_document(const nlohmann::json& doc, broker_config& c, const std::filesystem::path& base,
                   std::vector<config_error>& errors) {
    json_object root(&doc, "", errors);
    if (!root.present()) return;
    root.u32("threads", c.threads, 0, 1024);
    auto lg = root.child("log");
    lg.choice("level", c.log.level, {"trace", "debug", "info", "warning", "error"});
    std::string file;
    lg.text("file", file);
    if (!file.empty()) {
        c.log.file = std::filesystem::path(file).is_relative() ? (base / file).lexically_normal()
                                                               : std::filesystem::path(file);
    }
    lg.u32("max_file_mb", c.log.max_file_mb, 1, 10000);
    lg.u32("keep_files", c.log.keep_files, 0, 1000);
    lg.u32("rate_limit_ms", c.log.rate_limit_ms, 0, 3600000);
    lg.finish();
    auto st = root.child("status");
    st.boolean("enabled", c.status.enabled);
    st.address("listen", c.status.listen, true, false);
    st.finish();
    auto wd = root.child("watchdog");
    wd.boolean("enabled", c.watchdog.enabled);
    wd.u32("interval_ms", c.watchdog.interval_ms, 10, 600000);
    wd.u32("probe_interval_ms", c.watchdog.probe_interval_ms, 10, 3600000);
    wd.u32("probe_timeout_ms", c.watchdog.probe_timeout_ms, 10, 600000);
    wd.u32("heartbeat_ms", c.watchdog.heartbeat_ms, 10, 600000);
    wd.choice("on_unrecoverable", c.watchdog.on_unrecoverable, {"exit", "report"});
    if (c.watchdog.probe_timeout_ms >= c.watchdog.probe_interval_ms)
        wd.error("probe_timeout_ms", "must be less than probe_interval_ms");
    wd.finish();

    if (const auto* ls = root.array("listeners", true)) {
        if (ls->empty()) root.error("listeners", "must list at least one listener");
        std::map<std::string, std::size_t> names;
        std::map<std::pair<std::string, std::uint16_t>, std::size_t> endpoints;
        for (std::size_t i = 0; i < ls->size(); ++i) {
            listener_config l;
            const auto ptr = "/listeners/" + std::to_string(i);
            read_listener(json_object(&(*ls)[i], ptr, errors), l, i, base, errors);
            if (auto [it, fresh] = names.emplace(l.name, i); !fresh)
                errors.push_back({ptr + "/name", "duplicate listener name \"" + l.name + "\" (also /listeners/" +
                                                     std::to_string(it->second) + ")"});
            if (l.listen.port != 0) {
                const bool wild = l.listen.host == "0.0.0.0" || l.listen.host == "::";
                for (const auto& [ep, j] : endpoints) {
                    const bool other_wild = ep.first == "0.0.0.0" || ep.first == "::";
                    if (ep.second == l.listen.port && (ep.first == l.listen.host || wild || other_wild))
                        errors.push_back({ptr + "/listen", "endpoint " + l.listen.text +
                                                               " overlaps /listeners/" + std::to_string(j) + "/listen"});
                }
                endpoints.emplace(std::make_pair(l.listen.host, l.listen.port), i);
            }
            c.listeners.push_back(std::move(l));
        }
    }
    root.finish();
}

}  // namespace

std::string config_error::to_string() const { return (pointer.empty() ? std::string("/") : pointer) + ": " + message; }

load_result load_text(std::string_view json_text, const std::filesystem::path& base_dir) {
    load_result r;
    try {
        const auto doc = nlohmann::json::parse(json_text.begin(), json_text.end());
        auto c = std::make_shared<broker_config>();
        read_document(doc, *c, base_dir, r.errors);
        if (r.errors.empty()) r.config = std::move(c);
    } catch (const nlohmann::json::parse_error& e) {
        // e.what(): "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        std::string what = e.what();
        const auto at = what.find("parse error");
        r.errors.push_back({"", "invalid JSON: " + (at == std::string::npos ? what : what.substr(at))});
    } catch (const std::exception& e) {
        r.errors.push_back({"", std::string("cannot read the configuration: ") + e.what()});
    }
    return r;
}

load_result load_file(const std::filesystem::path& file) {
    std::ifstream f(file, std::ios::binary);
    if (!f) {
        load_result r;
        r.errors.push_back({"", "cannot read " + file.string()});
        return r;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    auto abs = std::filesystem::absolute(file).lexically_normal();
    auto r = load_text(ss.str(), abs.parent_path());
    if (r.config) {
        auto c = std::make_shared<broker_config>(*r.config);
        c->source = abs;
        r.config = std::move(c);
    }
    return r;
}

}  // namespace tlsbroker::config
