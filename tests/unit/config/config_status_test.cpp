// The status section: allowed_hosts, the token files (same rule as private keys: only their
// owner may read them), idle_timeout_ms; and the warning for a private key others (or a group
// the broker is not in) may read.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#ifndef _WIN32
#include <unistd.h>

#include <algorithm>
#include <vector>
#endif

#include "config/loader.hpp"
#include "support/config_support.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct status_fixture {
    fs::path dir = test::make_temp_dir("config-status");
    test::cert_files certs = test::make_self_signed(dir);

    json with_status(const json& status) const {
        return {{"status", status},
                {"listeners",
                 {{{"listen", "127.0.0.1:8443"},
                   {"tls", {{"certificate", "server.crt"}, {"private_key", "server.key"}}},
                   {"backend", {{"address", "127.0.0.1:9000"}}}}}}};
    }
    config::load_result load(const json& status) const { return config::load_text(with_status(status).dump(), dir); }
    // A token file with `text`, readable by its owner only unless `mode` says otherwise.
    fs::path token(const std::string& name, const std::string& text, fs::perms mode = fs::perms::owner_read) const {
        test::write_file(dir / name, text);
        fs::permissions(dir / name, mode);
        return dir / name;
    }
};

using test::all;
using test::has_error;

#ifndef _WIN32
// A group this process is not in (65534 is nogroup on Debian).
gid_t other_group() {
    std::vector<gid_t> mine(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
    mine.resize(static_cast<std::size_t>(std::max(::getgroups(static_cast<int>(mine.size()), mine.data()), 0)));
    mine.push_back(::getegid());
    gid_t g = 65534;
    while (std::find(mine.begin(), mine.end(), g) != mine.end()) --g;
    return g;
}
#endif

}  // namespace

TEST(config_status, defaults) {
    status_fixture f;
    const auto r = f.load(json::object());
    ASSERT_TRUE(r.ok()) << all(r);
    const auto& s = r.config->status;
    EXPECT_EQ(s.listen.text, "127.0.0.1:8417");
    EXPECT_EQ(s.listen.port, 8417);
    EXPECT_TRUE(s.allowed_hosts.empty());
    EXPECT_TRUE(s.token_file.empty());
    EXPECT_TRUE(s.reload_token_file.empty());
    EXPECT_TRUE(s.token.empty());
    EXPECT_TRUE(s.reload_token.empty());
    EXPECT_EQ(s.idle_timeout_ms, 5000u);
}

TEST(config_status, allowed_hosts_are_names_with_an_optional_port_folded_to_lower_case) {
    status_fixture f;
    auto r = f.load({{"allowed_hosts", {"Broker01", "metrics.example.com:8417", "a-b.example"}}});
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->status.allowed_hosts,
              (std::vector<std::string>{"broker01", "metrics.example.com:8417", "a-b.example"}));

    r = f.load({{"allowed_hosts",
                 {"ok.example", "10.0.0.5", "[::1]:8417", "bad name", "*.example", "x:0", "x:70000", ":8417",
                  "OK.example", 7, ""}}});
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(has_error(r, "/status/allowed_hosts/0")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/1", "is an IP address, which is always allowed")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/2", "is an IP address")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/3", "DNS name")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/4", "without wildcards")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/5", "port 1..65535")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/6", "port 1..65535")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/7", "DNS name")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/8", "listed twice")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/9", "non-empty string")) << all(r);
    EXPECT_TRUE(has_error(r, "/status/allowed_hosts/10", "non-empty string")) << all(r);
    EXPECT_EQ(r.errors.size(), 10u) << all(r);

    EXPECT_TRUE(has_error(f.load({{"allowed_hosts", "broker01"}}), "/status/allowed_hosts", "must be an array"));
}

TEST(config_status, idle_timeout_ms_range) {
    status_fixture f;
    EXPECT_TRUE(f.load({{"idle_timeout_ms", 100}}).ok());
    EXPECT_TRUE(f.load({{"idle_timeout_ms", 3600000}}).ok());
    EXPECT_TRUE(has_error(f.load({{"idle_timeout_ms", 99}}), "/status/idle_timeout_ms", "100..3600000"));
    EXPECT_TRUE(has_error(f.load({{"idle_timeout_ms", "5s"}}), "/status/idle_timeout_ms", "not a string"));
    EXPECT_TRUE(
        has_error(f.load({{"idle_timout_ms", 5000}}), "/status/idle_timout_ms", "did you mean 'idle_timeout_ms'"));
}

TEST(config_status, token_files_are_read_at_load) {
    status_fixture f;
    f.token("read.token", "read-token-0123456789\n");
    f.token("reload.token", "  reload-token-0123456789\r\n");
    const auto r = f.load({{"token_file", "read.token"}, {"reload_token_file", "reload.token"}});
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->status.token, "read-token-0123456789");
    EXPECT_EQ(r.config->status.reload_token, "reload-token-0123456789");
    EXPECT_EQ(r.config->status.token_file, f.dir / "read.token");  // relative to the config folder
    EXPECT_EQ(r.config->status.reload_token_file, f.dir / "reload.token");
}

TEST(config_status, a_bad_token_file_is_an_error_at_its_pointer) {
    status_fixture f;
    const auto bad = [&](const std::string& key, const std::string& file, const std::string& needle) {
        const auto r = f.load({{key, file}});
        EXPECT_TRUE(has_error(r, "/status/" + key, needle)) << key << " " << file << ":\n" << all(r);
        EXPECT_EQ(r.errors.size(), 1u) << all(r);
    };
    bad("token_file", "missing.token", "cannot read file");
    bad("reload_token_file", "missing.token", "cannot read file");
    f.token("empty.token", "\n");
    bad("token_file", "empty.token", "is empty");
    f.token("short.token", "abc123\n");
    bad("reload_token_file", "short.token", "use at least 16");
    f.token("two-words.token", "first-half-0123 second-half-0123\n");
    bad("token_file", "two-words.token", "one word of printable ASCII");
    f.token("long.token", std::string(5000, 'x'));
    bad("token_file", "long.token", "at most 4096");
#ifndef _WIN32
    using p = fs::perms;
    f.token("group.token", "group-readable-0123456789", p::owner_read | p::owner_write | p::group_read);
    bad("token_file", "group.token", "readable by group (mode 0640)");
    f.token("others.token", "others-readable-0123456789", p::owner_read | p::others_read);
    bad("reload_token_file", "others.token", "readable by others (mode 0404)");
    f.token("both.token", "world-readable-0123456789", p::owner_read | p::owner_write | p::group_read | p::others_read);
    const auto r = f.load({{"reload_token_file", "both.token"}});
    EXPECT_TRUE(has_error(r, "/status/reload_token_file",
                          "token file " + (f.dir / "both.token").string() +
                              " is readable by group and others (mode 0644); make it readable by its owner only"))
        << all(r);
#endif
}

#ifndef _WIN32
TEST(config_status, a_private_key_others_may_read_is_a_warning_naming_it) {
    status_fixture f;
    const auto sni = test::make_self_signed(f.dir, "api", "api.example");
    auto j = f.with_status(json::object());
    j["listeners"][0]["tls"]["sni"] = {
        {{"server_names", {"api.example"}}, {"certificate", "api.crt"}, {"private_key", "api.key"}}};
    auto r = config::load_text(j.dump(), f.dir);
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_TRUE(r.warnings.empty()) << "test keys are written 0600";

    // Readable by the broker's own group: shared on purpose (root:ssl-cert 0640), no warning.
    fs::permissions(f.certs.key, fs::perms::group_read, fs::perm_options::add);
    r = config::load_text(j.dump(), f.dir);
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front().to_string();

    // Readable by a group the broker is not in, and by others: warnings.
    if (::chown(f.certs.key.c_str(), static_cast<uid_t>(-1), other_group()) != 0)
        GTEST_SKIP() << "cannot give the key to another group (not root)";
    fs::permissions(sni.key, fs::perms::others_read, fs::perm_options::add);
    r = config::load_text(j.dump(), f.dir);
    ASSERT_TRUE(r.ok()) << all(r) << "a warning, not an error";
    ASSERT_EQ(r.warnings.size(), 2u);
    EXPECT_EQ(r.warnings[0].to_string(), "/listeners/0/tls/private_key: private key " + f.certs.key.string() +
                                             " is readable by group (mode 0640); only its owner (or a group the "
                                             "broker is in) should read it");
    EXPECT_EQ(r.warnings[1].pointer, "/listeners/0/tls/sni/0/private_key");
    EXPECT_NE(r.warnings[1].message.find(sni.key.string() + " is readable by others (mode 0604)"), std::string::npos)
        << r.warnings[1].message;
}
#endif
