// Certificates and keys from PKCS#12 (PFX) files and from one PEM file holding both
// (config/credentials.cpp): loaded by content, each problem on the JSON key it is about.
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "config/credentials.hpp"
#include "config/loader.hpp"
#include "support/config_support.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
using nlohmann::json;

namespace {

struct credentials_fixture {
    std::filesystem::path dir = test::make_temp_dir("config-credentials");
    test::ca_files ca = test::make_ca(dir);
    test::cert_files leaf = test::make_leaf(ca, dir, "leaf", "site.example");

    json with_tls(const json& tls) const {
        return {{"listeners",
                 {{{"listen", "127.0.0.1:8443"}, {"tls", tls}, {"backend", {{"address", "127.0.0.1:9000"}}}}}}};
    }
    config::load_result load(const json& tls) const { return config::load_text(with_tls(tls).dump(), dir); }
    std::filesystem::path password(const std::string& name, const std::string& text) const {
        test::write_file(dir / name, text);
        std::filesystem::permissions(dir / name,
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        return dir / name;
    }
};

config::config_error only_error(const config::load_result& r) {
    EXPECT_EQ(r.errors.size(), 1u) << test::all(r);
    return r.errors.empty() ? config::config_error{"(none)", ""} : r.errors.front();
}

}  // namespace

TEST(config_credentials, a_pfx_with_its_chain_and_a_password_file_loads_without_private_key) {
    credentials_fixture f;
    // Named .crt on purpose: PKCS#12 is recognised by its content, not its extension.
    test::make_pfx(f.leaf, f.dir / "site.crt", "s3cret pass", {f.ca.cert});
    f.password("site.pass", "s3cret pass\n");  // the final newline is not part of the password
    const auto r = f.load({{"certificate", "site.crt"}, {"certificate_password_file", "site.pass"}});
    ASSERT_TRUE(r.ok()) << test::all(r);
    EXPECT_TRUE(r.warnings.empty()) << test::all(r);
    const auto& t = r.config->listeners[0].tls;
    EXPECT_TRUE(t.private_key.empty());
    EXPECT_EQ(t.certificate_password_file, f.dir / "site.pass");
    const auto c = config::read_credentials(t.source());
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c.pkcs12);
    ASSERT_EQ(c.chain.size(), 1u) << "the PFX's CA certificate is the chain";
    EXPECT_EQ(test::serial_hex(c.chain[0].get()), test::serial_hex(f.ca.cert));
    EXPECT_EQ(test::serial_hex(c.leaf.get()), test::serial_hex(f.leaf.cert));
}

TEST(config_credentials, a_pfx_without_a_password_needs_no_password_file) {
    credentials_fixture f;
    test::make_pfx(f.leaf, f.dir / "open.pfx");
    const auto r = f.load({{"certificate", "open.pfx"}});
    EXPECT_TRUE(r.ok()) << test::all(r);
}

TEST(config_credentials, pfx_password_problems_name_the_key_they_are_about) {
    credentials_fixture f;
    test::make_pfx(f.leaf, f.dir / "site.pfx", "right");
    f.password("wrong.pass", "wrong");
    auto e = only_error(f.load({{"certificate", "site.pfx"}, {"certificate_password_file", "wrong.pass"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate_password_file");
    EXPECT_NE(e.message.find("wrong password for PKCS#12 file " + (f.dir / "site.pfx").string()), std::string::npos)
        << e.message;
    e = only_error(f.load({{"certificate", "site.pfx"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(e.message.find("protected by a password"), std::string::npos) << e.message;
    e = only_error(f.load({{"certificate", "site.pfx"}, {"certificate_password_file", "missing.pass"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate_password_file");
}

TEST(config_credentials, a_pfx_without_a_key_or_with_a_private_key_beside_it_is_an_error) {
    credentials_fixture f;
    test::make_pfx(f.leaf, f.dir / "nokey.pfx", "", {}, false);
    auto e = only_error(f.load({{"certificate", "nokey.pfx"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(e.message.find("holds no private key"), std::string::npos) << e.message;

    test::make_pfx(f.leaf, f.dir / "site.pfx");
    e = only_error(f.load({{"certificate", "site.pfx"}, {"private_key", "leaf.key"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/private_key");
    EXPECT_NE(e.message.find("remove private_key"), std::string::npos) << e.message;

    test::write_file(f.dir / "junk.pfx", std::string("\x30\x82\x01\x00junk", 8));
    e = only_error(f.load({{"certificate", "junk.pfx"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(e.message.find("not a PKCS#12 (PFX) file"), std::string::npos) << e.message;
}

TEST(config_credentials, one_pem_file_with_key_and_chain_loads) {
    credentials_fixture f;
    test::make_combined_pem(f.leaf, f.dir / "all.pem", {f.ca.cert});
    const auto r = f.load({{"certificate", "all.pem"}});
    ASSERT_TRUE(r.ok()) << test::all(r);
    const auto c = config::read_credentials(r.config->listeners[0].tls.source());
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c.pkcs12);
    EXPECT_EQ(c.chain.size(), 1u);
}

TEST(config_credentials, a_pem_without_a_key_or_with_a_foreign_key_is_an_error_on_certificate) {
    credentials_fixture f;
    auto e = only_error(f.load({{"certificate", "leaf.crt"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(e.message.find("holds no private key"), std::string::npos) << e.message;

    const auto other = test::make_self_signed(f.dir, "other");
    test::make_combined_pem({f.leaf.cert, other.key}, f.dir / "mixed.pem");
    e = only_error(f.load({{"certificate", "mixed.pem"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(e.message.find("does not match certificate"), std::string::npos) << e.message;
}

TEST(config_credentials, an_encrypted_pem_key_opens_with_its_password_file) {
    credentials_fixture f;
    EVP_PKEY* key = nullptr;
    {
        FILE* in = std::fopen(f.leaf.key.c_str(), "r");
        ASSERT_NE(in, nullptr);
        key = PEM_read_PrivateKey(in, nullptr, nullptr, nullptr);
        std::fclose(in);
    }
    ASSERT_NE(key, nullptr);
    FILE* out = std::fopen((f.dir / "locked.key").c_str(), "w");
    ASSERT_NE(out, nullptr);
    char pass[] = "open sesame";
    PEM_write_PrivateKey(out, key, EVP_aes_256_cbc(), reinterpret_cast<unsigned char*>(pass), 11, nullptr, nullptr);
    std::fclose(out);
    EVP_PKEY_free(key);
    f.password("key.pass", "open sesame\r\n");
    f.password("bad.pass", "closed");
    EXPECT_TRUE(
        f.load({{"certificate", "leaf.crt"}, {"private_key", "locked.key"}, {"certificate_password_file", "key.pass"}})
            .ok());
    const auto e = only_error(f.load(
        {{"certificate", "leaf.crt"}, {"private_key", "locked.key"}, {"certificate_password_file", "bad.pass"}}));
    EXPECT_EQ(e.pointer, "/listeners/0/tls/certificate_password_file");
    EXPECT_NE(e.message.find("wrong password"), std::string::npos) << e.message;
}

TEST(config_credentials, sni_entries_take_pfx_and_combined_pem_too) {
    credentials_fixture f;
    const auto b = test::make_leaf(f.ca, f.dir, "b", "b.example", false, {"b.example"});
    test::make_pfx(b, f.dir / "b.pfx", "pw");
    f.password("b.pass", "pw");
    test::make_combined_pem(f.leaf, f.dir / "a.pem");
    auto r = f.load(
        {{"certificate", "a.pem"},
         {"sni",
          {{{"server_names", {"b.example"}}, {"certificate", "b.pfx"}, {"certificate_password_file", "b.pass"}}}}});
    ASSERT_TRUE(r.ok()) << test::all(r);
    r = f.load({{"certificate", "a.pem"}, {"sni", {{{"server_names", {"b.example"}}, {"certificate", "b.pfx"}}}}});
    EXPECT_EQ(only_error(r).pointer, "/listeners/0/tls/sni/0/certificate");
}

TEST(config_credentials, a_pfx_or_password_file_others_may_read_is_warned_about) {
    credentials_fixture f;
    test::make_pfx(f.leaf, f.dir / "site.pfx", "pw");
    const auto pass = f.password("site.pass", "pw");
    // Others, not the group: a file its own group may read is shared on purpose (secret_files.hpp).
    std::filesystem::permissions(f.dir / "site.pfx", std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    std::filesystem::permissions(pass, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
    const auto r = f.load({{"certificate", "site.pfx"}, {"certificate_password_file", "site.pass"}});
    ASSERT_TRUE(r.ok()) << test::all(r);
    ASSERT_EQ(r.warnings.size(), 2u) << test::all(r);
    EXPECT_EQ(r.warnings[0].pointer, "/listeners/0/tls/certificate");
    EXPECT_NE(r.warnings[0].message.find("holding the private key"), std::string::npos) << r.warnings[0].message;
    EXPECT_EQ(r.warnings[1].pointer, "/listeners/0/tls/certificate_password_file");
}

TEST(config_credentials, sha256_fingerprint_is_colon_separated_hex) {
    credentials_fixture f;
    const auto c = config::read_credentials({f.leaf.cert, f.leaf.key, {}, {}});
    ASSERT_TRUE(c.ok());
    const auto fp = config::sha256_fingerprint(c.leaf.get());
    EXPECT_EQ(fp.rfind("SHA256:", 0), 0u);
    EXPECT_EQ(fp.size(), 7u + 32 * 3 - 1) << fp;
}
