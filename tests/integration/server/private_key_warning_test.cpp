// A private key that others (or a group the broker is not in) may read is a warning naming the
// file, at start (in the log) and from --check-config; the broker still starts. One its own
// group may read (Debian's root:ssl-cert 0640) is shared on purpose: no warning.
#include <gtest/gtest.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(private_key_warning, a_key_others_may_read_is_logged_at_start_and_by_check_config) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("key-warning");
    auto cfg = test::base_config(dir, backend.port());
    cfg["log"]["level"] = "info";
    test::write_file(dir / "broker.json", cfg.dump(2));
    const fs::path key = cfg["listeners"][0]["tls"]["private_key"].get<std::string>();
    fs::permissions(key, fs::perms::others_read, fs::perm_options::add);  // 0604

    const auto [code, out] = test::run_to_completion({"--check-config", (dir / "broker.json").string()}, dir);
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("warning: /listeners/0/tls/private_key: private key " + key.string() +
                       " is readable by others (mode 0604)"),
              std::string::npos)
        << out;

    test::process broker({{"--config", (dir / "broker.json").string()}, dir / "broker.out", {}});
    const auto named = broker.wait_for_output(
        R"(\[warning\] config: /listeners/0/tls/private_key: private key (\S+) is readable by others)", 10s);
    ASSERT_TRUE(named) << broker.output();
    EXPECT_EQ(*named, key.string());
    EXPECT_TRUE(broker.wait_for_output(R"(status endpoint on http://)", 10s)) << "a warning, not a failure";
    EXPECT_FALSE(broker.wait_exit(0ms)) << broker.output();
}  // the child is killed here

TEST(private_key_warning, a_key_only_its_owner_and_its_own_group_read_gets_no_warning) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("key-no-warning");
    auto cfg = test::base_config(dir, backend.port());
    test::write_file(dir / "broker.json", cfg.dump(2));
    // The key's group is the broker's own (the test made it): as root:ssl-cert 0640 with the
    // service in ssl-cert.
    const fs::path key = cfg["listeners"][0]["tls"]["private_key"].get<std::string>();
    fs::permissions(key, fs::perms::group_read, fs::perm_options::add);
    const auto [code, out] = test::run_to_completion({"--check-config", (dir / "broker.json").string()}, dir);
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out.find(": warning: "), std::string::npos) << out;
}
