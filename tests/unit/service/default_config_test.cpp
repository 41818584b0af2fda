// The starter config the installer writes (service/default_config.hpp): the status endpoint on
// 8417 by default (9100 is node_exporter's), a config the loader accepts, and on POSIX a key
// that only its owner may read.
#include "service/default_config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;

TEST(default_config, status_endpoint_defaults_to_8417_and_the_loader_accepts_it) {
    const auto dir = test::make_temp_dir("default-config");
    ASSERT_EQ(service::write_default_config(dir, "8443", "127.0.0.1:9000"), "");
    std::ifstream in(dir / "tlsbroker.json");
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["status"]["listen"], "127.0.0.1:8417");
    EXPECT_EQ(j["listeners"][0]["listen"], "0.0.0.0:8443");
    EXPECT_EQ(j["listeners"][0]["backend"]["address"], "127.0.0.1:9000");
    const auto loaded = config::load_file(dir / "tlsbroker.json");
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
}

TEST(default_config, private_key_is_readable_by_its_owner_only) {
    const auto dir = test::make_temp_dir("default-config-key");
    // A key file left readable by others must not keep its mode when rewritten.
    std::ofstream(dir / "server.key") << "old\n";
    ::chmod((dir / "server.key").c_str(), 0644);
    ASSERT_EQ(service::write_self_signed(dir / "server.crt", dir / "server.key"), "");
    struct stat st {};
    ASSERT_EQ(::stat((dir / "server.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}
