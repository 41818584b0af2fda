// `tlsbroker --check-config` lists every problem with its JSON pointer and exits 1, or
// exits 0 for a valid file; `--version` prints the version.
#include <gtest/gtest.h>

#include "support/broker_harness.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;

TEST(check_config, bad_file_lists_every_problem_and_exits_1) {
    const auto dir = test::make_temp_dir("check-config");
    test::write_file(dir / "bad.json", R"({
  "threads": -1,
  "listeners": [{ "name": "site", "listen": "0.0.0.0:99999", "backlog": 0,
                  "tls": { "certificate": "missing.crt", "private_key": "missing.key" },
                  "backend": { "address": "127.0.0.1:9000" }, "colour": "blue" }]
})");
    const auto [code, out] = test::run_to_completion({"--check-config", (dir / "bad.json").string()}, dir);
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find("/threads"), std::string::npos) << out;
    EXPECT_NE(out.find("/listeners/0/listen"), std::string::npos) << out;
    EXPECT_NE(out.find("/listeners/0/backlog"), std::string::npos) << out;
    EXPECT_NE(out.find("/listeners/0/tls/certificate"), std::string::npos) << out;
    EXPECT_NE(out.find("/listeners/0/colour"), std::string::npos) << out;
}

TEST(check_config, valid_file_exits_0) {
    const auto dir = test::make_temp_dir("check-config-ok");
    test::write_file(dir / "ok.json", test::base_config(dir, 9000).dump(2));
    const auto [code, out] = test::run_to_completion({"--check-config", (dir / "ok.json").string()}, dir);
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("valid"), std::string::npos) << out;
}

TEST(check_config, version_and_usage) {
    const auto dir = test::make_temp_dir("version");
    const auto [code, out] = test::run_to_completion({"--version"}, dir);
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out.rfind("tlsbroker ", 0), 0u) << out;
    const auto [code2, out2] = test::run_to_completion({"--bogus"}, dir);
    EXPECT_EQ(code2, 2);
    EXPECT_NE(out2.find("usage"), std::string::npos);
}
