#include "config/loader.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <exception>
#include <set>
#include <system_error>

#include "config/document.hpp"
#include "config/json_reader.hpp"
#include "config/listener_reader.hpp"
#include "config/secret_files.hpp"
#include "config/tls_checks.hpp"

namespace tlsbroker::config {

namespace {

void read_log(json_object o, log_config& log, const std::filesystem::path& base) {
    o.choice("level", log.level, {"trace", "debug", "info", "warning", "error"});
    o.path("file", log.file, base);
    o.u32("max_file_mb", log.max_file_mb, 1, 10000);
    o.u32("keep_files", log.keep_files, 0, 1000);
    o.u32("rate_limit_ms", log.rate_limit_ms, 0, 3600000);
    o.choice("format", log.format, {"text", "json"});
    o.finish();
}

void read_watchdog(json_object o, watchdog_config& w) {
    o.boolean("enabled", w.enabled);
    o.u32("interval_ms", w.interval_ms, 10, 600000);
    o.u32("probe_interval_ms", w.probe_interval_ms, 10, 3600000);
    o.u32("probe_timeout_ms", w.probe_timeout_ms, 10, 600000);
    o.u32("heartbeat_ms", w.heartbeat_ms, 10, 600000);
    o.choice("on_unrecoverable", w.on_unrecoverable);
    if (w.probe_timeout_ms >= w.probe_interval_ms)
        o.error("probe_timeout_ms", "must be less than probe_interval_ms (" + std::to_string(w.probe_timeout_ms) +
                                        " >= " + std::to_string(w.probe_interval_ms) + ")");
    o.finish();
}

// One entry of status.allowed_hosts: "name" (any port) or "name:port" (that port only),
// folded to lower case; or an error message.
std::string allowed_host(const std::string& entry, std::string& out) {
    std::string folded = entry;
    for (auto& ch : folded) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto ip = "is an IP address, which is always allowed; list host names only (got \"" + entry + "\")";
    if (folded.front() == '[' || std::count(folded.begin(), folded.end(), ':') > 1) return ip;  // IPv6
    std::string name = folded;
    if (const auto colon = folded.rfind(':'); colon != std::string::npos) {
        name = folded.substr(0, colon);
        const auto port = folded.substr(colon + 1);
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(port) == 0 || std::stoul(port) > 65535)
            return "must be a host name, or a host name and a port 1..65535 (got \"" + entry + "\")";
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address(name, ec);
    if (!ec) return ip;
    if (name.find('*') != std::string::npos || !valid_server_name(name))
        return "must be a DNS name without wildcards (got \"" + entry + "\")";
    out = std::move(folded);
    return {};
}

void read_status(json_object o, status_config& s, const std::filesystem::path& base) {
    o.boolean("enabled", s.enabled);
    o.address("listen", s.listen, true, false);
    if (const auto* hosts = o.array("allowed_hosts")) {
        std::set<std::string> seen;
        for (std::size_t i = 0; i < hosts->size(); ++i) {
            const auto at = o.at("allowed_hosts") + "/" + std::to_string(i);
            const auto& h = (*hosts)[i];
            if (!h.is_string() || h.get<std::string>().empty()) {
                o.error_at(at, "must be a non-empty string (a host name)");
                continue;
            }
            std::string name;
            if (const auto p = allowed_host(h.get<std::string>(), name); !p.empty()) {
                o.error_at(at, p);
                continue;
            }
            if (!seen.insert(name).second) {
                o.error_at(at, "\"" + h.get<std::string>() + "\" is listed twice");
                continue;
            }
            s.allowed_hosts.push_back(std::move(name));
        }
    }
    const auto token = [&](const char* key, std::filesystem::path& file, std::string& value) {
        o.file(key, file, base, false);
        if (file.empty()) return;
        if (const auto p = read_token_file(file, value); !p.empty()) o.error(key, p);
    };
    token("token_file", s.token_file, s.token);
    token("reload_token_file", s.reload_token_file, s.reload_token);
    o.u32("idle_timeout_ms", s.idle_timeout_ms, 100, 3600000);
    o.finish();
}

// Listener names are unique, and no two sockets (listeners and the status endpoint)
// may compete for one port.
void check_listeners_apart(const broker_config& c, const std::vector<std::string>& pointers,
                           std::vector<config_error>& errors) {
    for (std::size_t i = 0; i < c.listeners.size(); ++i) {
        const auto& l = c.listeners[i];
        for (std::size_t j = 0; j < i; ++j) {
            if (c.listeners[j].name == l.name)
                errors.push_back({pointers[i] + "/name",
                                  "duplicate listener name \"" + l.name + "\" (also " + pointers[j] + "/name)"});
            if (endpoints_overlap(c.listeners[j].listen, l.listen))
                errors.push_back({pointers[i] + "/listen", "endpoint " + l.listen.text + " overlaps " + pointers[j] +
                                                               "/listen (" + c.listeners[j].listen.text + ")"});
        }
        if (c.status.enabled && endpoints_overlap(c.status.listen, l.listen))
            errors.push_back({pointers[i] + "/listen",
                              "endpoint " + l.listen.text + " overlaps the status endpoint " + c.status.listen.text});
    }
}

void read_document(const json& doc, broker_config& c, const std::filesystem::path& base,
                   std::vector<config_error>& errors) {
    json_object root(&doc, "", errors);
    if (!root.present()) return;
    root.u32("threads", c.threads, 0, 1024);
    read_log(root.child("log"), c.log, base);
    read_status(root.child("status"), c.status, base);
    read_watchdog(root.child("watchdog"), c.watchdog);
    auto tls = root.child("tls");
    tls.u32("reload_check_s", c.tls.reload_check_s, 0, 86400);
    tls.finish();

    if (const auto* ls = root.array("listeners", true)) {
        if (ls->empty()) root.error("listeners", "must list at least one listener");
        std::vector<std::string> pointers;
        for (std::size_t i = 0; i < ls->size(); ++i) {
            pointers.push_back("/listeners/" + std::to_string(i));
            listener_config l;
            read_listener(json_object(&(*ls)[i], pointers.back(), errors), l, i, base, errors);
            c.listeners.push_back(std::move(l));
        }
        check_listeners_apart(c, pointers, errors);
    }
    root.finish();
}

std::filesystem::path absolute_folder(const std::filesystem::path& dir) {
    std::error_code ec;
    auto abs = dir.empty() ? std::filesystem::current_path(ec) : std::filesystem::absolute(dir, ec);
    return ec ? dir : abs.lexically_normal();
}

}  // namespace

std::string config_error::to_string() const { return (pointer.empty() ? std::string("/") : pointer) + ": " + message; }

load_result load_text(std::string_view json_text, const std::filesystem::path& base_dir) {
    load_result r;
    try {
        const auto doc = parse_document(json_text, r.errors);
        if (!doc) return r;
        auto c = std::make_shared<broker_config>();
        read_document(*doc, *c, absolute_folder(base_dir), r.errors);
        sort_in_document_order(*doc, r.errors);
        if (r.errors.empty()) {
            warn_exposed_keys(*c, r.warnings);
            warn_certificate_validity(*c, r.warnings);
            r.config = std::move(c);
        }
    } catch (const std::exception& e) {
        r.config.reset();
        r.errors.push_back({"", std::string("cannot read the configuration: ") + e.what()});
    }
    return r;
}

load_result load_file(const std::filesystem::path& file) {
    load_result r;
    try {
        std::string text;
        if (const auto why = read_file(file, text); !why.empty()) {
            r.errors.push_back({"", "cannot read " + file.string() + ": " + why});
            return r;
        }
        std::error_code ec;
        auto abs = std::filesystem::absolute(file, ec).lexically_normal();
        if (ec) abs = file;
        r = load_text(text, abs.parent_path());
        if (r.config) {
            auto c = std::make_shared<broker_config>(*r.config);
            c->source = abs;
            r.config = std::move(c);
        }
    } catch (const std::exception& e) {
        r.config.reset();
        r.errors.push_back({"", "cannot read " + file.string() + ": " + e.what()});
    }
    return r;
}

}  // namespace tlsbroker::config
