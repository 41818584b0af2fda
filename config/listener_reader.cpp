#include "config/listener_reader.hpp"

#include <cctype>
#include <map>

#include "config/cert_store.hpp"
#include "config/cidr.hpp"
#include "config/tls_checks.hpp"

namespace tlsbroker::config {

namespace {

// "certificate", "private_key" (omitted when the certificate file holds the key) and
// "certificate_password_file" of one object, read together (config/credentials.hpp), or instead
// "certificate_store" (config/cert_store.hpp). Problems land on the key they are about.
void read_cert_pair(json_object& o, std::filesystem::path& cert, std::filesystem::path& key,
                    std::filesystem::path& password, store_reference& store, const std::filesystem::path& base) {
    const bool from_store = o.has("certificate_store");
    read_store_reference(o, store);
    if (from_store)
        for (const char* k : {"certificate", "private_key", "certificate_password_file"})
            if (o.has(k)) o.error(k, "use either certificate_store or the certificate files, not both");
    o.file("certificate", cert, base, !from_store);
    o.file("private_key", key, base, false);
    o.file("certificate_password_file", password, base, false);
    if (from_store) {
        if (store.used() && !o.has("certificate"))
            for (const auto& p : check_certificate_pair({{}, {}, {}, store})) o.error(p.field, p.message);
        return;
    }
    // A file named but unreadable is reported already; judging the rest without it would
    // only add a second, misleading error.
    if (cert.empty() || (o.has("private_key") && key.empty()) ||
        (o.has("certificate_password_file") && password.empty()))
        return;
    for (const auto& p : check_certificate_pair({cert, key, password, {}})) o.error(p.field, p.message);
}

void read_sni(json_object& o, tls_config& t, const std::filesystem::path& base, std::vector<config_error>& errors) {
    const auto* sni = o.array("sni");
    if (sni == nullptr) return;
    std::map<std::string, std::string> seen;  // server name → pointer of its first entry
    for (std::size_t i = 0; i < sni->size(); ++i) {
        json_object e(&(*sni)[i], o.at("sni") + "/" + std::to_string(i), errors);
        sni_certificate s;
        if (const auto* names = e.array("server_names", true)) {
            if (names->empty()) e.error("server_names", "must list at least one name");
            for (std::size_t k = 0; k < names->size(); ++k) {
                const auto& n = (*names)[k];
                const auto at = e.at("server_names") + "/" + std::to_string(k);
                if (!n.is_string() || n.get<std::string>().empty()) {
                    e.error_at(at, "must be a non-empty string");
                    continue;
                }
                const auto name = n.get<std::string>();
                if (!valid_server_name(name)) {
                    e.error_at(at, "must be a DNS name or \"*.\" and a DNS name (got \"" + name + "\")");
                    continue;
                }
                std::string folded = name;  // names compare case-insensitively
                for (auto& ch : folded) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                if (auto [it, fresh] = seen.emplace(folded, at); !fresh)
                    e.error_at(at, "\"" + name + "\" is already served by " + it->second);
                s.server_names.push_back(name);
            }
        }
        read_cert_pair(e, s.certificate, s.private_key, s.certificate_password_file, s.certificate_store, base);
        e.finish();
        t.sni.push_back(std::move(s));
    }
}

void read_tls(json_object o, tls_config& t, const std::filesystem::path& base, std::vector<config_error>& errors) {
    read_cert_pair(o, t.certificate, t.private_key, t.certificate_password_file, t.certificate_store, base);
    o.choice("min_version", t.min_version);
    o.text("ciphers", t.ciphers);
    if (!t.ciphers.empty())
        if (auto p = check_ciphers(t.ciphers); !p.empty()) o.error("ciphers", p);
    o.text("ciphersuites", t.ciphersuites);
    if (!t.ciphersuites.empty())
        if (auto p = check_ciphersuites(t.ciphersuites); !p.empty()) o.error("ciphersuites", p);
    o.text("groups", t.groups);
    if (!t.groups.empty())
        if (auto p = check_groups(t.groups); !p.empty()) o.error("groups", p);
    o.boolean("session_tickets", t.session_tickets);
    o.u32("session_cache_size", t.session_cache_size, 0, 10000000);
    o.u32("session_timeout_s", t.session_timeout_s, 1, 604800);
    read_sni(o, t, base, errors);
    o.boolean("refuse_unknown_sni", t.refuse_unknown_sni);
    o.boolean("refuse_missing_sni", t.refuse_missing_sni);
    o.file("client_ca", t.client_ca, base, false);
    if (!t.client_ca.empty())
        if (auto p = check_ca_file(t.client_ca); !p.empty()) o.error("client_ca", p);
    o.choice("verify_client", t.verify_client);
    if (t.verify_client != verify_client_mode::none && !o.has("client_ca") && o.present())
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

void read_backends(json_object& o, listener_config& l, std::vector<config_error>& errors) {
    auto single = o.child("backend");
    const auto* several = o.array("backends");
    const bool has_single = o.has("backend");
    if (has_single && o.has("backends")) o.error("backends", "use either \"backend\" or \"backends\", not both");
    if (has_single) {
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
    } else if (!o.has("backends") && o.present()) {
        o.error("backend", "is required (or \"backends\")");
    }
    o.choice("backend_policy", l.backend_policy);
    auto bh = o.child("backend_health");
    bh.u32("fail_threshold", l.backend_health.fail_threshold, 1, 1000);
    bh.u32("cooldown_ms", l.backend_health.cooldown_ms, 1, 86400000);
    bh.u32("check_interval_ms", l.backend_health.check_interval_ms, 0, 3600000);
    bh.finish();
}

// accept_proxy and trusted_proxies: a header is read only from listed networks, so a
// mode other than "none" needs at least one, and a list without a mode is a mistake.
void read_accept_proxy(json_object& o, listener_config& l, std::vector<config_error>& errors) {
    const auto before = errors.size();
    o.choice("accept_proxy", l.accept_proxy);
    const std::string mode(to_string(l.accept_proxy));
    const bool accepts = l.accept_proxy != accept_proxy_mode::none;
    const bool mode_ok = errors.size() == before;
    if (const auto* list = o.array("trusted_proxies")) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto& e = (*list)[i];
            const auto at = o.at("trusted_proxies") + "/" + std::to_string(i);
            if (!e.is_string()) {
                o.error_at(at, "must be a string (an address or a network in CIDR form)");
                continue;
            }
            cidr c;
            if (const auto p = parse_cidr(e.get<std::string>(), c); !p.empty())
                o.error_at(at, p);
            else
                l.trusted_proxies.push_back(c);
        }
        if (list->empty() && accepts)
            o.error("trusted_proxies", "must list at least one network when accept_proxy is \"" + mode + "\"");
        else if (!accepts && mode_ok)
            o.error("trusted_proxies", "has no effect while accept_proxy is \"none\" (set accept_proxy or remove it)");
    } else if (accepts && !o.has("trusted_proxies") && o.present()) {
        o.error("trusted_proxies", "is required when accept_proxy is \"" + mode +
                                       "\" (the networks of the balancers that send the header)");
    }
}

}  // namespace

void read_listener(json_object o, listener_config& l, std::size_t index, const std::filesystem::path& base,
                   std::vector<config_error>& errors) {
    l.name = "listener" + std::to_string(index);
    const auto before = errors.size();
    o.text("name", l.name);
    if (errors.size() == before &&
        (l.name.empty() || l.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                    "0123456789_.-") != std::string::npos))
        o.error("name", "must be non-empty and use only letters, digits, '_', '.' and '-' (got \"" + l.name + "\")");
    o.address("listen", l.listen, true, true);
    o.u32("backlog", l.backlog, 1, 65535);
    o.u32("max_connections", l.max_connections, 1, 1000000);
    auto tls = o.child("tls");
    if (o.has("tls"))
        read_tls(tls, l.tls, base, errors);
    else if (o.present())
        o.error("tls", "is required");
    read_backends(o, l, errors);
    o.choice("proxy_protocol", l.proxy_protocol);
    read_accept_proxy(o, l, errors);
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
    t.u32("connect_total_ms", l.timeouts.connect_total_ms, 1, 3600000);
    t.finish();
    auto k = o.child("keepalive");
    k.boolean("enabled", l.keepalive.enabled);
    k.u32("idle_s", l.keepalive.idle_s, 1, 86400);
    k.u32("interval_s", l.keepalive.interval_s, 1, 3600);
    k.u32("count", l.keepalive.count, 1, 100);
    k.finish();
    o.u32("socket_buffer_bytes", l.socket_buffer_bytes, 0, 16 * 1024 * 1024);
    if (l.socket_buffer_bytes != 0 && l.socket_buffer_bytes < 4096)
        o.error("socket_buffer_bytes", "must be 0 (the system's default) or at least 4096 (got " +
                                           std::to_string(l.socket_buffer_bytes) + ")");
    o.finish();
}

}  // namespace tlsbroker::config
