// TLS material is loaded and checked when the configuration is: each problem names the
// file, OpenSSL's reason, and the key it is about.
#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <unistd.h>

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

struct tls_fixture {
    std::filesystem::path dir = test::make_temp_dir("config-tls");
    test::cert_files certs = test::make_self_signed(dir);

    json with_tls(const json& tls) const {
        return {{"listeners",
                 {{{"listen", "127.0.0.1:8443"}, {"tls", tls}, {"backend", {{"address", "127.0.0.1:9000"}}}}}}};
    }
    json pair(const std::string& cert, const std::string& key) const {
        return {{"certificate", cert}, {"private_key", key}};
    }
    config::load_result load(const json& tls) const { return config::load_text(with_tls(tls).dump(), dir); }
};

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

using test::all;

// The one error of `r`, or a failure.
config::config_error only_error(const config::load_result& r) {
    EXPECT_EQ(r.errors.size(), 1u) << all(r);
    return r.errors.empty() ? config::config_error{"(none)", ""} : r.errors.front();
}

}  // namespace

TEST(config_tls, a_valid_pair_loads_with_absolute_paths) {
    tls_fixture f;
    const auto r = f.load(f.pair("server.crt", "./server.key"));
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->listeners[0].tls.certificate, f.certs.cert);
    EXPECT_EQ(r.config->listeners[0].tls.private_key, f.certs.key);
}

TEST(config_tls, rsa_keys_and_chains_are_accepted) {
    tls_fixture f;
    test::make_self_signed(f.dir, "rsa", "localhost", test::key_type::rsa2048);
    EXPECT_TRUE(f.load(f.pair("rsa.crt", "rsa.key")).ok());
    const auto ca = test::make_ca(f.dir);
    const auto leaf = test::make_leaf(ca, f.dir, "leaf", "a.example");
    test::write_file(f.dir / "chain.crt", slurp(leaf.cert) + slurp(ca.cert));
    const auto r = f.load(f.pair("chain.crt", "leaf.key"));
    EXPECT_TRUE(r.ok()) << all(r);
}

TEST(config_tls, unreadable_certificate_names_the_file_and_the_reason) {
    tls_fixture f;
    auto e = only_error(f.load(f.pair("missing.crt", "server.key")));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(e.message.find((f.dir / "missing.crt").string()), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("No such file or directory"), std::string::npos) << e.message;
    std::filesystem::create_directory(f.dir / "folder.crt");
    e = only_error(f.load(f.pair("folder.crt", "server.key")));
    EXPECT_NE(e.message.find("directory"), std::string::npos) << e.message;
    if (::geteuid() != 0) {
        std::filesystem::copy_file(f.certs.key, f.dir / "locked.key");
        std::filesystem::permissions(f.dir / "locked.key", std::filesystem::perms::none);
        e = only_error(f.load(f.pair("server.crt", "locked.key")));
        EXPECT_EQ(e.pointer, "/listeners/0/tls/private_key");
        EXPECT_NE(e.message.find("Permission denied"), std::string::npos) << e.message;
    }
}

TEST(config_tls, malformed_certificate_and_key_name_the_file_and_openssl_reason) {
    tls_fixture f;
    test::write_file(f.dir / "garbage.crt", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
    auto e = only_error(f.load(f.pair("garbage.crt", "server.key")));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(e.message.find("malformed certificate " + (f.dir / "garbage.crt").string()), std::string::npos)
        << e.message;
    EXPECT_GT(e.message.size(), e.message.find("): ") + 4) << "OpenSSL's reason is missing: " << e.message;

    test::write_file(f.dir / "text.crt", "hello\n");
    e = only_error(f.load(f.pair("text.crt", "server.key")));
    EXPECT_NE(e.message.find("no PEM CERTIFICATE found"), std::string::npos) << e.message;

    // The certificate where the key belongs.
    e = only_error(f.load(f.pair("server.crt", "server.crt")));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/private_key");
    EXPECT_NE(e.message.find("malformed private key"), std::string::npos) << e.message;

    test::write_file(f.dir / "chain-bad.crt", slurp(f.certs.cert) + slurp(f.dir / "garbage.crt"));
    e = only_error(f.load(f.pair("chain-bad.crt", "server.key")));
    EXPECT_NE(e.message.find("block 2"), std::string::npos) << e.message;
}

TEST(config_tls, a_key_that_does_not_match_is_an_error) {
    tls_fixture f;
    test::make_self_signed(f.dir, "other");
    const auto e = only_error(f.load(f.pair("server.crt", "other.key")));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/private_key");
    EXPECT_NE(e.message.find("does not match certificate " + f.certs.cert.string()), std::string::npos) << e.message;
}

// An expired certificate never takes the site down: the config loads, with a warning that
// names the file and the date (the listener serves it, degraded).
TEST(config_tls, an_expired_certificate_loads_with_a_warning_naming_the_file_and_date) {
    tls_fixture f;
    const auto old =
        test::make_self_signed(f.dir, "old", "old.example", test::key_type::ecdsa_p256, std::chrono::seconds(-60));
    const auto r = f.load(f.pair("old.crt", "old.key"));
    ASSERT_TRUE(r.ok()) << all(r);
    ASSERT_EQ(r.warnings.size(), 1u);
    const auto& w = r.warnings[0];
    EXPECT_EQ(w.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(w.message.find("certificate " + old.cert.string() + " expired on "), std::string::npos) << w.message;
    EXPECT_NE(w.message.find("GMT"), std::string::npos) << w.message;
    EXPECT_NE(w.message.find("degraded"), std::string::npos) << w.message;
}

TEST(config_tls, an_encrypted_key_is_refused_without_asking_for_a_passphrase) {
    tls_fixture f;
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    ASSERT_NE(key, nullptr);
    FILE* out = std::fopen((f.dir / "locked.key").c_str(), "w");
    ASSERT_NE(out, nullptr);
    char pass[] = "secret";
    PEM_write_PrivateKey(out, key, EVP_aes_256_cbc(), reinterpret_cast<unsigned char*>(pass), 6, nullptr, nullptr);
    std::fclose(out);
    EVP_PKEY_free(key);
    const auto e = only_error(f.load(f.pair("server.crt", "locked.key")));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/private_key");
    EXPECT_NE(e.message.find("encrypted"), std::string::npos) << e.message;
}

TEST(config_tls, cipher_lists_are_checked_name_by_name) {
    tls_fixture f;
    auto tls = f.pair("server.crt", "server.key");
    tls["ciphers"] = "ECDHE-ECDSA-AES128-GCM-SHA256:NOPE";
    auto e = only_error(f.load(tls));
    EXPECT_EQ(e.to_string(), "/listeners/0/tls/ciphers: \"NOPE\" matches no TLS 1.2 cipher");
    tls["ciphers"] = "AES128-SHA";
    EXPECT_NE(only_error(f.load(tls)).message.find("not AEAD"), std::string::npos);
    tls["ciphers"] = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:@STRENGTH";
    EXPECT_TRUE(f.load(tls).ok()) << all(f.load(tls));
    tls.erase("ciphers");
    tls["ciphersuites"] = "TLS_AES_128_GCM_SHA256:TLS_NOPE";
    e = only_error(f.load(tls));
    EXPECT_EQ(e.to_string(), "/listeners/0/tls/ciphersuites: unknown TLS 1.3 ciphersuite \"TLS_NOPE\"");
    tls["ciphersuites"] = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
    EXPECT_TRUE(f.load(tls).ok());
}

TEST(config_tls, sni_entries) {
    tls_fixture f;
    auto tls = f.pair("server.crt", "server.key");
    tls["sni"] = {
        {{"server_names", {"a.example", "*.b.example"}}, {"certificate", "server.crt"}, {"private_key", "server.key"}},
        {{"server_names", {"A.example", "bad name", "*.*.c"}},
         {"certificate", "server.crt"},
         {"private_key", "nope.key"}}};
    const auto r = f.load(tls);
    ASSERT_EQ(r.errors.size(), 4u) << all(r);
    // nlohmann::json writes keys sorted: certificate, private_key, server_names.
    EXPECT_EQ(r.errors[0].pointer, "/listeners/0/tls/sni/1/private_key");
    EXPECT_EQ(r.errors[1].pointer, "/listeners/0/tls/sni/1/server_names/0");
    EXPECT_NE(r.errors[1].message.find("already served by /listeners/0/tls/sni/0/server_names/0"), std::string::npos)
        << all(r);
    EXPECT_EQ(r.errors[2].pointer, "/listeners/0/tls/sni/1/server_names/1");
    EXPECT_EQ(r.errors[3].pointer, "/listeners/0/tls/sni/1/server_names/2");
}

TEST(config_tls, client_ca_and_crl) {
    tls_fixture f;
    const auto ca = test::make_ca(f.dir, "clients");
    test::make_crl(ca.cert, ca.key, {}, f.dir / "clients.crl");
    auto tls = f.pair("server.crt", "server.key");
    tls["verify_client"] = "required";
    EXPECT_EQ(only_error(f.load(tls)).to_string(), "/listeners/0/tls/verify_client: needs tls.client_ca");
    tls["client_ca"] = "absent.crt";  // reported once, on client_ca
    EXPECT_EQ(only_error(f.load(tls)).pointer, "/listeners/0/tls/client_ca");
    tls["client_ca"] = "clients.crt";
    tls["crl"] = "server.crt";
    EXPECT_NE(only_error(f.load(tls)).message.find("malformed CRL"), std::string::npos);
    tls["crl"] = "clients.crl";
    const auto r = f.load(tls);
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->listeners[0].tls.crl, f.dir / "clients.crl");
    EXPECT_EQ(r.config->listeners[0].tls.client_ca, ca.cert);
}

TEST(config_tls, required_and_empty_paths) {
    tls_fixture f;
    auto r = f.load(json{{"certificate", ""}});
    EXPECT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors.at(0).to_string(), "/listeners/0/tls/certificate: must not be empty");
    // private_key may be left out (a PFX, or a PEM file holding the key), but not given empty.
    r = f.load(json{{"certificate", "server.crt"}, {"private_key", ""}});
    EXPECT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors.at(0).to_string(),
              "/listeners/0/tls/private_key: must not be empty (leave the key out instead)");
    r = f.load(json::object());
    EXPECT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors.at(0).to_string(), "/listeners/0/tls/certificate: is required");
}

TEST(config_tls, groups_are_checked_name_by_name) {
    tls_fixture f;
    auto tls = f.pair("server.crt", "server.key");
    tls["groups"] = "X25519:P-256:P-384";
    EXPECT_TRUE(f.load(tls).ok()) << all(f.load(tls));
    tls["groups"] = "X25519:NOPE";
    auto e = only_error(f.load(tls));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/groups");
    EXPECT_EQ(e.message, std::string("unknown group \"NOPE\" (not known to ") + OpenSSL_version(OPENSSL_VERSION) + ")");
    tls["groups"] = ":";
    EXPECT_EQ(only_error(f.load(tls)).to_string(), "/listeners/0/tls/groups: names no group");
    // The hybrid post-quantum group is accepted exactly where the OpenSSL in use knows it.
    SSL_CTX* probe = SSL_CTX_new(TLS_server_method());
    const bool hybrid = SSL_CTX_set1_groups_list(probe, "X25519MLKEM768") == 1;
    ERR_clear_error();
    SSL_CTX_free(probe);
    tls["groups"] = "X25519MLKEM768:X25519";
    const auto r = f.load(tls);
    EXPECT_EQ(r.ok(), hybrid) << all(r);
    if (!hybrid) {
        EXPECT_NE(only_error(r).message.find("\"X25519MLKEM768\""), std::string::npos) << all(r);
    }
}

TEST(config_tls, an_empty_client_ca_is_an_error_and_does_not_turn_mutual_tls_off) {
    tls_fixture f;
    auto tls = f.pair("server.crt", "server.key");
    tls["verify_client"] = "required";
    tls["client_ca"] = "";
    const auto e = only_error(f.load(tls));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/client_ca");
    EXPECT_NE(e.message.find("must not be empty"), std::string::npos) << e.message;
}

TEST(config_tls, every_path_given_as_empty_is_an_error_naming_it) {
    tls_fixture f;
    const auto ca = test::make_ca(f.dir, "ca");
    struct field {
        const char* pointer;
        json patch;
    };
    const field fields[] = {
        {"/listeners/0/tls/certificate", {{"certificate", ""}}},
        {"/listeners/0/tls/private_key", {{"private_key", ""}}},
        {"/listeners/0/tls/crl", {{"verify_client", "optional"}, {"client_ca", ca.cert.string()}, {"crl", ""}}},
        {"/listeners/0/tls/sni/0/certificate",
         {{"sni", {{{"server_names", {"a.example"}}, {"certificate", ""}, {"private_key", "server.key"}}}}}},
    };
    for (const auto& fl : fields) {
        auto tls = f.pair("server.crt", "server.key");
        for (auto it = fl.patch.begin(); it != fl.patch.end(); ++it) tls[it.key()] = *it;
        const auto e = only_error(f.load(tls));
        EXPECT_EQ(e.pointer, fl.pointer);
        EXPECT_NE(e.message.find("must not be empty"), std::string::npos) << e.message;
    }
    auto j = f.with_tls(f.pair("server.crt", "server.key"));
    j["log"] = {{"file", ""}};
    const auto e = only_error(config::load_text(j.dump(), f.dir));
    EXPECT_EQ(e.pointer, "/log/file");
}
