// The starter config the installer writes (service/default_config.hpp): the status endpoint on
// 8417 by default (9100 is node_exporter's), a config the loader accepts, on POSIX a key that
// only its owner may read, and a store certificate (the MSI's CERT_THUMBPRINT/CERT_SUBJECT)
// written as tls.certificate_store with no generated certificate beside it.
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
    ASSERT_EQ(service::write_default_config(dir, {}), "");
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

TEST(default_config, a_store_certificate_is_written_as_the_listeners_certificate_store) {
    const auto dir = test::make_temp_dir("default-config-store");
    service::starter_values v;
    v.listen_port = "443";
    v.certificate_store.location = "LocalMachine";
    v.certificate_store.store = "WebHosting";
    v.certificate_store.subject = "CN=site01.example, O=Site";
    ASSERT_EQ(service::write_default_config(dir, v), "");
    std::ifstream in(dir / "tlsbroker.json");
    const auto tls = nlohmann::json::parse(in)["listeners"][0]["tls"];
    EXPECT_EQ(tls, nlohmann::json::parse(
                       R"({"certificate_store": {"location": "LocalMachine", "store": "WebHosting",
                                                 "subject": "CN=site01.example, O=Site"}})"));
    EXPECT_FALSE(std::filesystem::exists(dir / "server.crt"));
    EXPECT_FALSE(std::filesystem::exists(dir / "server.key"));
    // The reference reads back as written (on Linux the store itself is an error: Windows only).
    const auto loaded = config::load_file(dir / "tlsbroker.json");
    for (const auto& e : loaded.errors)
        EXPECT_EQ(e.to_string().find("certificate_store/"), std::string::npos) << e.to_string();

    const auto by_thumb = test::make_temp_dir("default-config-thumb");
    v.certificate_store.subject.clear();
    v.certificate_store.thumbprint = "3A4F00112233445566778899AABBCCDDEEFF0011";
    ASSERT_EQ(service::write_default_config(by_thumb, v), "");
    std::ifstream in2(by_thumb / "tlsbroker.json");
    EXPECT_EQ(nlohmann::json::parse(in2)["listeners"][0]["tls"]["certificate_store"]["thumbprint"],
              "3A4F00112233445566778899AABBCCDDEEFF0011");
}
