#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/loader.hpp"
#include "support/config_support.hpp"
#include "support/test_certs.hpp"
#include "support/test_crl.hpp"

using namespace tlsbroker;
using nlohmann::json;

namespace {

struct loader_fixture {
    std::filesystem::path dir = test::make_temp_dir("config");
    test::cert_files certs = test::make_self_signed(dir);

    json valid() const {
        return {{"listeners",
                 {{{"name", "site"},
                   {"listen", "127.0.0.1:8443"},
                   {"tls", {{"certificate", "server.crt"}, {"private_key", "server.key"}}},
                   {"backend", {{"address", "127.0.0.1:9000"}}}}}}};
    }
    config::load_result load(const json& j) const { return config::load_text(j.dump(), dir); }
};

using test::all;
using test::has_error;

}  // namespace

TEST(config_loader, minimal_config_gets_documented_defaults) {
    loader_fixture f;
    const auto r = f.load(f.valid());
    ASSERT_TRUE(r.ok()) << all(r);
    const auto& l = r.config->listeners.at(0);
    EXPECT_EQ(l.backlog, 1024u);
    EXPECT_EQ(l.max_connections, 10000u);
    EXPECT_EQ(l.timeouts.handshake_ms, 10000u);
    EXPECT_EQ(l.timeouts.write_stall_ms, 60000u);
    EXPECT_EQ(l.timeouts.idle_ms, 0u);
#ifdef _WIN32
    EXPECT_EQ(l.socket_buffer_bytes, 64u * 1024);  // config/README.md, configuration reference
#else
    EXPECT_EQ(l.socket_buffer_bytes, 256u * 1024);
#endif
    EXPECT_EQ(config::to_string(l.tls.min_version), "1.2");
    EXPECT_EQ(l.backends.size(), 1u);
    EXPECT_EQ(l.backend.address.port, 9000);
    EXPECT_EQ(r.config->status.listen.text, "127.0.0.1:8417");
    EXPECT_EQ(r.config->watchdog.probe_interval_ms, 10000u);
    EXPECT_EQ(config::to_string(r.config->watchdog.on_unrecoverable), "exit");
    EXPECT_EQ(r.config->tls.reload_check_s, 60u);
}

TEST(config_loader, tls_reload_check_s) {
    loader_fixture f;
    auto j = f.valid();
    for (const auto v : {0, 1, 86400}) {
        j["tls"] = {{"reload_check_s", v}};
        const auto r = f.load(j);
        ASSERT_TRUE(r.ok()) << all(r);
        EXPECT_EQ(r.config->tls.reload_check_s, static_cast<std::uint32_t>(v));
    }
    j["tls"] = {{"reload_check_s", -1}};
    EXPECT_TRUE(has_error(f.load(j), "/tls/reload_check_s", "must be an integer in 0..86400")) << all(f.load(j));
    j["tls"] = {{"reload_check_s", "60"}};
    EXPECT_TRUE(has_error(f.load(j), "/tls/reload_check_s", "not a string")) << all(f.load(j));
    j["tls"] = {{"reload_check", 5}};
    EXPECT_TRUE(has_error(f.load(j), "/tls/reload_check", "did you mean 'reload_check_s'")) << all(f.load(j));
}

TEST(config_loader, relative_paths_resolve_against_the_config_folder) {
    loader_fixture f;
    const auto r = f.load(f.valid());
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->listeners[0].tls.certificate, f.certs.cert);
    EXPECT_TRUE(r.config->listeners[0].tls.certificate.is_absolute());
}

TEST(config_loader, every_key_is_read) {
    loader_fixture f;
    const auto ca = test::make_ca(f.dir, "clients");
    test::make_crl(ca.cert, ca.key, {}, f.dir / "clients.crl");
    test::make_self_signed(f.dir, "alt", "alt.example");
    // Every key set to something other than its default, written as an operator would.
    const auto text = R"({
  "threads": 3,
  "log": { "level": "debug", "file": "b.log", "max_file_mb": 5, "keep_files": 2, "rate_limit_ms": 100 },
  "status": { "enabled": false, "listen": "[::1]:9200" },
  "watchdog": { "enabled": false, "interval_ms": 500, "probe_interval_ms": 3000, "probe_timeout_ms": 100,
                "heartbeat_ms": 700, "on_unrecoverable": "report" },
  "listeners": [{
    "name": "site", "listen": "[::]:8443", "backlog": 77, "max_connections": 88,
    "tls": { "certificate": "server.crt", "private_key": "server.key",
             "sni": [{ "server_names": ["alt.example"], "certificate": "alt.crt", "private_key": "alt.key" }],
             "refuse_unknown_sni": true, "client_ca": "clients.crt", "verify_client": "optional",
             "crl": "clients.crl", "verify_depth": 3, "min_version": "1.3",
             "ciphers": "ECDHE+AESGCM", "ciphersuites": "TLS_AES_256_GCM_SHA384",
             "session_tickets": false, "session_cache_size": 0, "session_timeout_s": 60 },
    "backend": { "address": "db.internal:9000", "connect_timeout_ms": 250 },
    "backend_policy": "round_robin",
    "backend_health": { "fail_threshold": 2, "cooldown_ms": 10, "check_interval_ms": 5 },
    "proxy_protocol": "v1", "max_connections_per_source": 4, "source_rate_per_second": 3,
    "source_rate_burst": 6, "connection_log": false,
    "timeouts": { "handshake_ms": 1, "idle_ms": 2, "write_stall_ms": 3, "drain_ms": 4, "half_close_ms": 5 },
    "keepalive": { "enabled": false, "idle_s": 6, "interval_s": 7, "count": 8 },
    "socket_buffer_bytes": 65536
  }]
})";
    test::write_file(f.dir / "broker.json", text);
    const auto r = config::load_file(f.dir / "broker.json");
    ASSERT_TRUE(r.ok()) << all(r);
    const auto& c = *r.config;
    EXPECT_EQ(c.source, f.dir / "broker.json");
    EXPECT_EQ(c.threads, 3u);
    EXPECT_EQ(c.effective_threads(), 3u);
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.file, f.dir / "b.log");
    EXPECT_EQ(c.log.max_file_mb, 5u);
    EXPECT_EQ(c.log.keep_files, 2u);
    EXPECT_EQ(c.log.rate_limit_ms, 100u);
    EXPECT_FALSE(c.status.enabled);
    EXPECT_EQ(c.status.listen.host, "::1");
    EXPECT_EQ(c.status.listen.port, 9200);
    EXPECT_EQ(c.status.listen.text, "[::1]:9200");
    EXPECT_FALSE(c.watchdog.enabled);
    EXPECT_EQ(c.watchdog.interval_ms, 500u);
    EXPECT_EQ(c.watchdog.probe_interval_ms, 3000u);
    EXPECT_EQ(c.watchdog.probe_timeout_ms, 100u);
    EXPECT_EQ(c.watchdog.heartbeat_ms, 700u);
    EXPECT_EQ(config::to_string(c.watchdog.on_unrecoverable), "report");
    ASSERT_EQ(c.listeners.size(), 1u);
    const auto& l = c.listeners[0];
    EXPECT_EQ(l.name, "site");
    EXPECT_EQ(l.listen.host, "::");
    EXPECT_EQ(l.listen.port, 8443);
    EXPECT_EQ(l.backlog, 77u);
    EXPECT_EQ(l.max_connections, 88u);
    EXPECT_EQ(l.tls.certificate, f.certs.cert);
    EXPECT_EQ(l.tls.private_key, f.certs.key);
    ASSERT_EQ(l.tls.sni.size(), 1u);
    EXPECT_EQ(l.tls.sni[0].server_names, std::vector<std::string>{"alt.example"});
    EXPECT_EQ(l.tls.sni[0].certificate, f.dir / "alt.crt");
    EXPECT_EQ(l.tls.sni[0].private_key, f.dir / "alt.key");
    EXPECT_TRUE(l.tls.refuse_unknown_sni);
    EXPECT_EQ(l.tls.client_ca, ca.cert);
    EXPECT_EQ(config::to_string(l.tls.verify_client), "optional");
    EXPECT_EQ(l.tls.crl, f.dir / "clients.crl");
    EXPECT_EQ(l.tls.verify_depth, 3u);
    EXPECT_EQ(config::to_string(l.tls.min_version), "1.3");
    EXPECT_EQ(l.tls.ciphers, "ECDHE+AESGCM");
    EXPECT_EQ(l.tls.ciphersuites, "TLS_AES_256_GCM_SHA384");
    EXPECT_FALSE(l.tls.session_tickets);
    EXPECT_EQ(l.tls.session_cache_size, 0u);
    EXPECT_EQ(l.tls.session_timeout_s, 60u);
    EXPECT_EQ(l.backend.address.host, "db.internal");
    EXPECT_EQ(l.backend.address.port, 9000);
    EXPECT_EQ(l.backend.connect_timeout_ms, 250u);
    ASSERT_EQ(l.backends.size(), 1u);
    EXPECT_EQ(l.backends[0].address.text, "db.internal:9000");
    EXPECT_EQ(config::to_string(l.backend_policy), "round_robin");
    EXPECT_EQ(l.backend_health.fail_threshold, 2u);
    EXPECT_EQ(l.backend_health.cooldown_ms, 10u);
    EXPECT_EQ(l.backend_health.check_interval_ms, 5u);
    EXPECT_EQ(config::to_string(l.proxy_protocol), "v1");
    EXPECT_EQ(l.source_limits.max_connections_per_source, 4u);
    EXPECT_EQ(l.source_limits.rate_per_source, 3u);
    EXPECT_EQ(l.source_limits.rate_burst, 6u);
    EXPECT_FALSE(l.connection_log);
    EXPECT_EQ(l.timeouts.handshake_ms, 1u);
    EXPECT_EQ(l.timeouts.idle_ms, 2u);
    EXPECT_EQ(l.timeouts.write_stall_ms, 3u);
    EXPECT_EQ(l.timeouts.drain_ms, 4u);
    EXPECT_EQ(l.timeouts.half_close_ms, 5u);
    EXPECT_FALSE(l.keepalive.enabled);
    EXPECT_EQ(l.keepalive.idle_s, 6u);
    EXPECT_EQ(l.keepalive.interval_s, 7u);
    EXPECT_EQ(l.keepalive.count, 8u);
    EXPECT_EQ(l.socket_buffer_bytes, 65536u);
}

TEST(config_loader, range_and_type_errors_name_the_pointer) {
    loader_fixture f;
    auto j = f.valid();
    j["listeners"][0]["backlog"] = 0;
    j["listeners"][0]["max_connections"] = "many";
    j["threads"] = -1;
    j["listeners"][0]["keepalive"] = {{"enabled", "yes"}};
    j["listeners"][0]["socket_buffer_bytes"] = 100;
    const auto r = f.load(j);
    EXPECT_TRUE(has_error(r, "/listeners/0/socket_buffer_bytes", "at least 4096 (got 100)")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/backlog", "must be an integer in 1..65535")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/max_connections", "not a string")) << all(r);
    EXPECT_TRUE(has_error(r, "/threads", "0..1024")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/keepalive/enabled", "true or false")) << all(r);
    EXPECT_EQ(config::config_error({"/listeners/0/backlog", "must be an integer in 1..65535"}).to_string(),
              "/listeners/0/backlog: must be an integer in 1..65535");
}

TEST(config_loader, unknown_keys_are_errors_with_a_suggestion) {
    loader_fixture f;
    auto j = f.valid();
    j["listeners"][0]["tls"]["cipher"] = "x";
    j["colour"] = "blue";
    const auto r = f.load(j);
    EXPECT_TRUE(has_error(r, "/listeners/0/tls/cipher", "did you mean 'ciphers'")) << all(r);
    EXPECT_TRUE(has_error(r, "/colour", "unknown key")) << all(r);
}

TEST(config_loader, missing_required_keys) {
    loader_fixture f;
    const auto r = f.load(json{{"listeners", {{{"name", "x"}}}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/listen", "is required")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/tls", "is required")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/backend", "is required")) << all(r);
    EXPECT_TRUE(has_error(f.load(json::object()), "/listeners", "is required"));
    EXPECT_TRUE(has_error(f.load(json{{"listeners", json::array()}}), "/listeners", "at least one"));
}

TEST(config_loader, duplicate_names_and_endpoints) {
    loader_fixture f;
    auto j = f.valid();
    j["listeners"].push_back(j["listeners"][0]);
    auto& second = j["listeners"][1];
    second["listen"] = "0.0.0.0:8443";  // the wildcard overlaps 127.0.0.1:8443
    const auto r = f.load(j);
    EXPECT_TRUE(has_error(r, "/listeners/1/name", "duplicate")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/1/listen", "overlaps")) << all(r);
}

TEST(config_loader, bad_endpoints) {
    loader_fixture f;
    auto j = f.valid();
    j["listeners"][0]["listen"] = "example.com:443";
    j["listeners"][0]["backend"]["address"] = "127.0.0.1:0";
    j["status"] = {{"listen", "::1:9100"}};
    const auto r = f.load(j);
    EXPECT_TRUE(has_error(r, "/listeners/0/listen", "IP address")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/backend/address", "1..65535")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/listen", "brackets")) << all(r);
}

TEST(config_loader, tls_material_is_checked_at_load_time) {
    loader_fixture f;
    const auto other = test::make_self_signed(f.dir, "other");
    test::write_file(f.dir / "garbage.crt", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    auto j = f.valid();
    j["listeners"][0]["tls"]["private_key"] = "other.key";  // does not match server.crt
    EXPECT_TRUE(has_error(f.load(j), "/listeners/0/tls/private_key", "does not match"));
    j["listeners"][0]["tls"] = {{"certificate", "garbage.crt"}, {"private_key", "server.key"}};
    EXPECT_TRUE(has_error(f.load(j), "/listeners/0/tls/certificate", "malformed certificate"));
    j["listeners"][0]["tls"] = {{"certificate", "missing.crt"}, {"private_key", "server.key"}};
    EXPECT_TRUE(has_error(f.load(j), "/listeners/0/tls/certificate", "cannot read"));
    j["listeners"][0]["tls"] = {{"certificate", "server.crt"}, {"private_key", "server.key"}, {"ciphers", "NOPE"}};
    EXPECT_TRUE(has_error(f.load(j), "/listeners/0/tls/ciphers"));
    j["listeners"][0]["tls"]["ciphers"] = "AES128-SHA";
    EXPECT_TRUE(has_error(f.load(j), "/listeners/0/tls/ciphers", "not AEAD"));
    j["listeners"][0]["tls"].erase("ciphers");
    j["listeners"][0]["tls"]["verify_client"] = "required";
    EXPECT_TRUE(has_error(f.load(j), "/listeners/0/tls/verify_client", "client_ca"));
}

TEST(config_loader, all_errors_are_reported_at_once) {
    loader_fixture f;
    auto j = f.valid();
    j["threads"] = "two";
    j["listeners"][0]["backlog"] = 70000;
    j["listeners"][0]["tls"]["min_version"] = "1.0";
    j["listeners"][0]["timeouts"] = {{"handshake_ms", 0}};
    j["watchdog"] = {{"probe_interval_ms", 100}, {"probe_timeout_ms", 200}};
    const auto r = f.load(j);
    ASSERT_EQ(r.errors.size(), 5u) << all(r);
    EXPECT_FALSE(r.config);
    // nlohmann::json writes keys sorted, so this is the document's order.
    const std::vector<std::string> expected = {"/listeners/0/backlog", "/listeners/0/timeouts/handshake_ms",
                                               "/listeners/0/tls/min_version", "/threads",
                                               "/watchdog/probe_timeout_ms"};
    for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(r.errors[i].pointer, expected[i]) << all(r);
}

TEST(config_loader, a_value_outside_a_closed_set_is_refused_with_every_name_listed) {
    loader_fixture f;
    auto j = f.valid();
    j["listeners"][0]["backend_policy"] = "random";
    j["listeners"][0]["tls"]["min_version"] = "1.0";
    j["watchdog"] = {{"on_unrecoverable", "restart"}};
    const auto r = f.load(j);
    EXPECT_FALSE(r.config);
    EXPECT_TRUE(has_error(r, "/listeners/0/backend_policy", R"(must be one of "first", "round_robin" (got "random"))"))
        << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/tls/min_version", R"(must be one of "1.2", "1.3" (got "1.0"))")) << all(r);
    EXPECT_TRUE(has_error(r, "/watchdog/on_unrecoverable", R"(must be one of "exit", "report" (got "restart"))"))
        << all(r);
}

TEST(config_loader, json_syntax_error_gives_line_and_column) {
    loader_fixture f;
    const auto r = config::load_text("{\n  \"threads\": 1,\n  oops\n}", f.dir);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].message.find("line 3"), std::string::npos) << r.errors[0].message;
}

TEST(config_loader, unreadable_file_is_an_error_not_an_exception) {
    const auto r = config::load_file("/nonexistent/tlsbroker.json");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(), "/: cannot read /nonexistent/tlsbroker.json: No such file or directory");
}

TEST(config_loader, operations_keys) {
    loader_fixture f;
    auto j = f.valid();
    auto& l = j["listeners"][0];
    l.erase("backend");
    l["backends"] = {{{"address", "127.0.0.1:9000"}},
                     {{"address", "backend.internal:9001"}, {"connect_timeout_ms", 50}}};
    l["backend_policy"] = "round_robin";
    l["backend_health"] = {{"fail_threshold", 2}, {"cooldown_ms", 10}, {"check_interval_ms", 5}};
    l["proxy_protocol"] = "v2";
    l["max_connections_per_source"] = 4;
    l["source_rate_per_second"] = 3;
    l["source_rate_burst"] = 6;
    l["connection_log"] = false;
    l["tls"]["sni"] = {
        {{"server_names", {"a.example", "*.b.example"}}, {"certificate", "server.crt"}, {"private_key", "server.key"}}};
    l["tls"]["refuse_unknown_sni"] = true;
    const auto r = f.load(j);
    ASSERT_TRUE(r.ok()) << all(r);
    const auto& c = r.config->listeners[0];
    EXPECT_EQ(c.backends.size(), 2u);
    EXPECT_EQ(c.backend.address.text, "127.0.0.1:9000");
    EXPECT_EQ(c.backends[1].address.host, "backend.internal");
    EXPECT_EQ(config::to_string(c.backend_policy), "round_robin");
    EXPECT_EQ(c.backend_health.check_interval_ms, 5u);
    EXPECT_EQ(config::to_string(c.proxy_protocol), "v2");
    EXPECT_EQ(c.source_limits.max_connections_per_source, 4u);
    EXPECT_EQ(c.source_limits.rate_burst, 6u);
    EXPECT_FALSE(c.connection_log);
    EXPECT_EQ(c.tls.sni.at(0).server_names.at(1), "*.b.example");
    EXPECT_TRUE(c.tls.refuse_unknown_sni);
    l["proxy_protocol"] = "v3";
    l["backend"] = {{"address", "127.0.0.1:1"}};
    const auto bad = f.load(j);
    EXPECT_TRUE(has_error(bad, "/listeners/0/proxy_protocol", "\"v1\"")) << all(bad);
    EXPECT_TRUE(has_error(bad, "/listeners/0/backends", "either")) << all(bad);
}

// The example in config/README.md (the first json block after its "## Configuration reference").
TEST(config_loader, readme_example_is_valid) {
    std::ifstream in(std::filesystem::path(TLSBROKER_SOURCE_DIR) / "config" / "README.md");
    std::stringstream ss;
    ss << in.rdbuf();
    const auto readme = ss.str();
    const auto section = readme.find("## Configuration reference");
    ASSERT_NE(section, std::string::npos);
    const auto begin = readme.find("```json\n", section);
    ASSERT_NE(begin, std::string::npos);
    const auto end = readme.find("```", begin + 8);
    ASSERT_NE(end, std::string::npos);
    const auto dir = test::make_temp_dir("config-readme");
    test::make_self_signed(dir, "server");
    test::make_self_signed(dir, "api", "api.example.com");
    const auto ca = test::make_ca(dir, "clients-ca");
    test::make_crl(ca.cert, ca.key, {}, dir / "clients.crl");
    for (const char* token : {"status.token", "reload.token"}) {
        test::write_file(dir / token, std::string(token) + "-0123456789abcdef\n");
        std::filesystem::permissions(dir / token, std::filesystem::perms::owner_read);
    }
    test::write_file(dir / "tlsbroker.json", readme.substr(begin + 8, end - begin - 8));
    const auto r = config::load_file(dir / "tlsbroker.json");
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->listeners.at(0).tls.sni.size(), 1u);
    EXPECT_EQ(r.config->log.file, dir / "tlsbroker.log");
}
