// Addresses ("host:port"), overlapping listen endpoints, and where relative paths lead.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "support/config_support.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
using nlohmann::json;

namespace {

struct endpoint_fixture {
    std::filesystem::path dir = test::make_temp_dir("config-endpoint");
    test::cert_files certs = test::make_self_signed(dir);

    json listener(const std::string& listen, const std::string& backend = "127.0.0.1:9000") const {
        return {{"listen", listen},
                {"tls", {{"certificate", "server.crt"}, {"private_key", "server.key"}}},
                {"backend", {{"address", backend}}}};
    }
    config::load_result load(const json& j) const { return config::load_text(j.dump(), dir); }
    config::load_result listeners(std::initializer_list<std::string> listens, json status = json::object()) const {
        json j{{"listeners", json::array()}, {"status", status}};
        for (const auto& l : listens) j["listeners"].push_back(listener(l));
        return load(j);
    }
};

using test::all;
using test::has_error;

}  // namespace

TEST(config_endpoint, listen_addresses) {
    endpoint_fixture f;
    auto r = f.listeners({"[::1]:8443", "*:8444", "0.0.0.0:8445", "[::]:8446", "127.0.0.1:0"});
    ASSERT_TRUE(r.ok()) << all(r);
    const auto& ls = r.config->listeners;
    EXPECT_EQ(ls[0].listen.host, "::1");
    EXPECT_EQ(ls[0].listen.port, 8443);
    EXPECT_EQ(ls[0].listen.text, "[::1]:8443");
    EXPECT_EQ(ls[1].listen.host, "0.0.0.0");
    EXPECT_EQ(ls[1].listen.text, "*:8444");
    EXPECT_EQ(ls[3].listen.host, "::");
    EXPECT_EQ(ls[4].listen.port, 0);
}

TEST(config_endpoint, bad_listen_addresses) {
    endpoint_fixture f;
    const std::pair<const char*, const char*> cases[] = {
        {"example.com:443", "IP address"},
        {"::1:8443", "brackets"},
        {"[127.0.0.1]:8443", "brackets must hold an IPv6 address"},
        {"[::1]8443", "[ipv6]:port"},
        {"127.0.0.1", "host:port"},
        {"127.0.0.1:65536", "0..65535"},
        {"127.0.0.1:-1", "0..65535"},
        {"127.0.0.1:", "0..65535"},
        {":8443", "IP address"},
        {"", "not empty"},
    };
    for (const auto& [text, needle] : cases) {
        const auto r = f.listeners({text});
        ASSERT_EQ(r.errors.size(), 1u) << text << "\n" << all(r);
        EXPECT_EQ(r.errors[0].pointer, "/listeners/0/listen") << text;
        EXPECT_NE(r.errors[0].message.find(needle), std::string::npos) << text << ": " << r.errors[0].message;
    }
}

TEST(config_endpoint, backend_addresses_may_be_names) {
    endpoint_fixture f;
    json j{{"listeners", {f.listener("127.0.0.1:8443", "backend-1.internal.example:9000")}}};
    auto r = f.load(j);
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->listeners[0].backend.address.host, "backend-1.internal.example");
    EXPECT_EQ(r.config->listeners[0].backends.at(0).address.port, 9000);
    for (const char* bad : {"bad host:9000", "-x.example:9000", "a..b:9000", "127.0.0.1:0", "host"}) {
        j["listeners"][0]["backend"]["address"] = bad;
        r = f.load(j);
        ASSERT_EQ(r.errors.size(), 1u) << bad << "\n" << all(r);
        EXPECT_EQ(r.errors[0].pointer, "/listeners/0/backend/address") << bad;
    }
}

TEST(config_endpoint, overlapping_endpoints) {
    endpoint_fixture f;
    auto r = f.listeners({"127.0.0.1:8443", "127.0.0.1:8443"});
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "/listeners/1/listen: endpoint 127.0.0.1:8443 overlaps /listeners/0/listen (127.0.0.1:8443)");
    EXPECT_EQ(f.listeners({"127.0.0.1:8443", "*:8443"}).errors.size(), 1u);
    EXPECT_EQ(f.listeners({"[::]:8443", "[::1]:8443"}).errors.size(), 1u);
    EXPECT_EQ(f.listeners({"[::1]:8443", "[0:0::1]:8443"}).errors.size(), 1u);
    // IPv6 sockets are v6-only: the two wildcards do not collide.
    EXPECT_TRUE(f.listeners({"0.0.0.0:8443", "[::]:8443"}).ok());
    EXPECT_TRUE(f.listeners({"127.0.0.1:8443", "127.0.0.2:8443", "127.0.0.1:8444"}).ok());
    EXPECT_TRUE(f.listeners({"127.0.0.1:0", "127.0.0.1:0", "0.0.0.0:0"}).ok());
}

TEST(config_endpoint, listeners_must_not_take_the_status_port) {
    endpoint_fixture f;
    auto r = f.listeners({"0.0.0.0:8417"});
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_NE(r.errors[0].message.find("status endpoint 127.0.0.1:8417"), std::string::npos) << all(r);
    EXPECT_TRUE(f.listeners({"0.0.0.0:8417"}, {{"enabled", false}}).ok());
    EXPECT_TRUE(f.listeners({"0.0.0.0:8417"}, {{"listen", "127.0.0.1:9200"}}).ok());
    EXPECT_TRUE(f.listeners({"0.0.0.0:9100"}).ok()) << "9100 is node_exporter's, no longer the status default";
    r = f.listeners({"127.0.0.1:8443"}, {{"listen", "localhost:9100"}});
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].pointer, "/status/listen");
}

TEST(config_endpoint, relative_paths_resolve_against_the_config_folder) {
    endpoint_fixture f;
    std::filesystem::create_directories(f.dir / "conf");
    json j{{"log", {{"file", "logs/broker.log"}}}, {"listeners", {f.listener("127.0.0.1:8443")}}};
    j["listeners"][0]["tls"] = {{"certificate", "../server.crt"}, {"private_key", f.certs.key.string()}};
    test::write_file(f.dir / "conf" / "broker.json", j.dump());
    const auto r = config::load_file(f.dir / "conf" / "broker.json");
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->source, f.dir / "conf" / "broker.json");
    EXPECT_EQ(r.config->listeners[0].tls.certificate, f.certs.cert);
    EXPECT_EQ(r.config->listeners[0].tls.private_key, f.certs.key);
    EXPECT_EQ(r.config->log.file, f.dir / "conf" / "logs" / "broker.log");
    // From text, paths resolve against the folder given, made absolute.
    const auto rel = std::filesystem::relative(f.dir, std::filesystem::current_path());
    const auto t = config::load_text(json{{"listeners", {f.listener("127.0.0.1:8443")}}}.dump(), rel);
    ASSERT_TRUE(t.ok()) << all(t);
    EXPECT_TRUE(t.config->listeners[0].tls.certificate.is_absolute());
    EXPECT_EQ(t.config->listeners[0].tls.certificate, f.certs.cert);
    EXPECT_TRUE(t.config->source.empty());
}

TEST(config_endpoint, log_file_may_be_absolute_or_left_out) {
    endpoint_fixture f;
    json j{{"log", {{"file", "/var/log/tlsbroker/broker.log"}}}, {"listeners", {f.listener("127.0.0.1:8443")}}};
    auto r = f.load(j);
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->log.file, "/var/log/tlsbroker/broker.log");
    j["log"].erase("file");
    r = f.load(j);
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_TRUE(r.config->log.file.empty());
}

TEST(config_endpoint, accept_proxy_and_trusted_proxies) {
    endpoint_fixture f;
    auto l = f.listener("127.0.0.1:8443");
    auto r = f.load({{"listeners", {l}}});
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(config::to_string(r.config->listeners[0].accept_proxy), "none");
    EXPECT_TRUE(r.config->listeners[0].trusted_proxies.empty());

    l["accept_proxy"] = "v2";
    l["trusted_proxies"] = {"10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1", "0.0.0.0/0"};
    r = f.load({{"listeners", {l}}});
    ASSERT_TRUE(r.ok()) << all(r);
    const auto& t = r.config->listeners[0].trusted_proxies;
    ASSERT_EQ(t.size(), 5u);
    EXPECT_EQ(t[0].prefix, 8);
    EXPECT_FALSE(t[0].v6);
    EXPECT_EQ(t[1].prefix, 32);
    EXPECT_TRUE(t[2].v6);
    EXPECT_EQ(t[2].bytes[0], 0xfd);
    EXPECT_EQ(t[3].prefix, 128);
    EXPECT_EQ(t[4].prefix, 0);
    for (const char* mode : {"v1", "any"}) {
        l["accept_proxy"] = mode;
        EXPECT_TRUE(f.load({{"listeners", {l}}}).ok());
    }
}

TEST(config_endpoint, accept_proxy_errors_name_the_pointer) {
    endpoint_fixture f;
    auto l = f.listener("127.0.0.1:8443");
    l["accept_proxy"] = "v3";
    auto r = f.load({{"listeners", {l}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/accept_proxy", "\"any\"")) << all(r);
    EXPECT_EQ(r.errors.size(), 1u) << all(r);

    l["accept_proxy"] = "v2";
    r = f.load({{"listeners", {l}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies", "is required when accept_proxy is \"v2\"")) << all(r);
    l["trusted_proxies"] = json::array();
    r = f.load({{"listeners", {l}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies", "at least one network")) << all(r);
    l["trusted_proxies"] = "10.0.0.0/8";
    r = f.load({{"listeners", {l}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies", "must be an array")) << all(r);

    l["trusted_proxies"] = {"10.0.0.0/8", "10.0.0.1/8", "fd00::/129",       "10.0.0.0/33", "host.example",
                            "10.0.0.0/x", 42,           "fe80::1%eth0/128", "10.0.0.0/"};
    r = f.load({{"listeners", {l}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/1", "the network is 10.0.0.0/8")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/2", "0..128")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/3", "0..32")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/4", "CIDR")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/5", "CIDR")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/6", "must be a string")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/7", "CIDR")) << all(r);
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies/8", "CIDR")) << all(r);
    EXPECT_EQ(r.errors.size(), 8u) << all(r);

    l["accept_proxy"] = "none";
    l["trusted_proxies"] = {"10.0.0.0/8"};
    r = f.load({{"listeners", {l}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/trusted_proxies", "no effect")) << all(r);
}
