// A listener served from a PKCS#12 (PFX) file, with a password file and no private_key: a
// client verifies the chain the PFX carries. One PEM file holding key and chain serves the
// same way, and an SNI entry may be a PFX too.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"

using namespace tlsbroker;

namespace {

struct pfx_pki {
    std::filesystem::path dir = test::make_temp_dir("pfx");
    test::ca_files ca = test::make_ca(dir, "ca");
    test::cert_files site = test::make_leaf(ca, dir, "site", "site.example", false, {"site.example"});
    test::cert_files b = test::make_leaf(ca, dir, "b", "b.example", false, {"b.example"});
};

// The serials of the chain a client gets for `sni` (leaf first); empty when the handshake failed.
std::vector<std::string> served_chain(std::uint16_t port, const char* sni) {
    test::tls_client c;
    if (!c.connect(port) || !c.handshake(sni)) return {};
    std::vector<std::string> out;
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(c.ssl());  // the leaf and what the server sent
    for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i)
        out.push_back(test::serial_hex(sk_X509_value(chain, i)));
    return out;
}

// True when the chain the server sent verifies against `ca` alone (as a client that trusts
// only the CA would check it).
bool verifies_against(std::uint16_t port, const std::filesystem::path& ca) {
    test::tls_client c;
    if (!c.connect(port) || !c.handshake("site.example")) return false;
    X509_STORE* store = X509_STORE_new();
    X509_STORE_load_file(store, ca.string().c_str());
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(c.ssl());
    X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain);
    const bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

}  // namespace

TEST(pfx_certificate, a_client_verifies_the_chain_the_pfx_carries) {
    pfx_pki p;
    test::make_pfx(p.site, p.dir / "site.pfx", "pfx password", {p.ca.cert});
    test::write_file(p.dir / "site.pass", "pfx password\n");
    std::filesystem::permissions(p.dir / "site.pass", std::filesystem::perms::owner_read);
    test::echo_backend backend;
    test::broker_harness broker(backend.port(),
                                {{"listeners",
                                  {{{"tls",
                                     {{"certificate", (p.dir / "site.pfx").string()},
                                      {"private_key", nullptr},
                                      {"certificate_password_file", (p.dir / "site.pass").string()}}}}}}});
    const auto chain = served_chain(broker.port(), "site.example");
    ASSERT_EQ(chain.size(), 2u) << "the leaf and the PFX's CA certificate";
    EXPECT_EQ(chain[0], test::serial_hex(p.site.cert));
    EXPECT_EQ(chain[1], test::serial_hex(p.ca.cert));
    EXPECT_TRUE(verifies_against(broker.port(), p.ca.cert));
}

TEST(pfx_certificate, one_pem_with_key_and_chain_serves_and_an_sni_entry_may_be_a_pfx) {
    pfx_pki p;
    test::make_combined_pem(p.site, p.dir / "site.pem", {p.ca.cert});
    test::make_pfx(p.b, p.dir / "b.pfx");
    test::echo_backend backend;
    test::broker_harness broker(
        backend.port(),
        {{"listeners",
          {{{"tls",
             {{"certificate", (p.dir / "site.pem").string()},
              {"private_key", nullptr},
              {"sni", {{{"server_names", {"b.example"}}, {"certificate", (p.dir / "b.pfx").string()}}}}}}}}}});
    const auto site = served_chain(broker.port(), "site.example");
    ASSERT_EQ(site.size(), 2u);
    EXPECT_EQ(site[0], test::serial_hex(p.site.cert));
    EXPECT_EQ(site[1], test::serial_hex(p.ca.cert));
    EXPECT_TRUE(verifies_against(broker.port(), p.ca.cert));
    const auto b = served_chain(broker.port(), "b.example");
    ASSERT_EQ(b.size(), 1u) << "the SNI entry's PFX has no chain";
    EXPECT_EQ(b[0], test::serial_hex(p.b.cert));
}
