// A session's resumption scope changes with the listener and with every part of the
// client-auth policy, and stays put when nothing changed; each scope has its own ticket
// key store, shared by the contexts that live at the same time (a reload).
#include "core/tls/resumption_scope.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/tls/ticket_keys.hpp"
#include "support/test_certs.hpp"
#include "support/test_crl.hpp"

namespace {

using tlsbroker::core::resumption_scope;
using tlsbroker::core::scope_for;
using tlsbroker::core::ticket_keys;
namespace config = tlsbroker::config;
namespace test = tlsbroker::test;

struct resumption_scope_test : ::testing::Test {
    std::filesystem::path dir = test::make_temp_dir("scope");
    test::ca_files ca = test::make_ca(dir, "ca");
    test::ca_files other_ca = test::make_ca(dir, "other-ca");
    test::cert_files client = test::make_leaf(ca, dir, "client", "client", true);
    config::tls_config mtls;

    void SetUp() override {
        mtls.verify_client = config::verify_client_mode::required;
        mtls.client_ca = ca.cert;
    }
};

TEST_F(resumption_scope_test, the_same_listener_and_policy_give_the_same_scope) {
    EXPECT_EQ(scope_for("site", mtls), scope_for("site", mtls));
    config::tls_config open;
    EXPECT_EQ(scope_for("site", open), scope_for("site", open));
}

TEST_F(resumption_scope_test, another_listener_is_another_scope) {
    EXPECT_NE(scope_for("site", mtls), scope_for("admin", mtls));
    config::tls_config open;
    EXPECT_NE(scope_for("site", open), scope_for("admin", open));
    // Length-prefixed fields: moving bytes between the name and the next field changes it.
    EXPECT_NE(scope_for("a", open), scope_for("", open));
}

TEST_F(resumption_scope_test, each_part_of_the_client_auth_policy_changes_the_scope) {
    const auto base = scope_for("site", mtls);
    auto c = mtls;
    c.verify_client = config::verify_client_mode::optional;
    EXPECT_NE(scope_for("site", c), base) << "verify mode";
    c = mtls;
    c.verify_depth = 2;
    EXPECT_NE(scope_for("site", c), base) << "depth";
    c = mtls;
    c.client_ca = other_ca.cert;
    EXPECT_NE(scope_for("site", c), base) << "another client CA file";
    c = mtls;
    c.crl = dir / "crl.pem";
    test::make_crl(ca.cert, ca.key, {}, c.crl);
    const auto with_crl = scope_for("site", c);
    EXPECT_NE(with_crl, base) << "a CRL";
    test::make_crl(ca.cert, ca.key, {client.cert}, c.crl);
    EXPECT_NE(scope_for("site", c), with_crl) << "a CRL that now revokes a client, same file name";
}

TEST_F(resumption_scope_test, new_contents_of_the_same_client_ca_file_change_the_scope) {
    auto c = mtls;
    c.client_ca = dir / "ca-bundle.pem";
    std::filesystem::copy_file(ca.cert, c.client_ca);
    const auto before = scope_for("site", c);
    std::filesystem::copy_file(other_ca.cert, c.client_ca, std::filesystem::copy_options::overwrite_existing);
    EXPECT_NE(scope_for("site", c), before);
}

TEST_F(resumption_scope_test, an_unreadable_trust_file_is_an_error_naming_it) {
    auto c = mtls;
    c.client_ca = dir / "missing.pem";
    try {
        scope_for("site", c);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
    }
}

TEST_F(resumption_scope_test, a_scope_keeps_one_ticket_store_while_it_is_held) {
    const auto site = scope_for("site", mtls);
    const auto admin = scope_for("admin", mtls);
    auto a = ticket_keys::for_scope(site);
    auto b = ticket_keys::for_scope(site);
    auto other = ticket_keys::for_scope(admin);
    EXPECT_EQ(a, b) << "a reload that keeps the scope keeps the keys";
    EXPECT_NE(a, other) << "another listener seals with other keys";
    const auto alive = ticket_keys::scopes_alive();
    b.reset();
    other.reset();
    EXPECT_EQ(ticket_keys::scopes_alive(), alive - 1) << "a store no context holds is freed";
    a.reset();
    EXPECT_EQ(ticket_keys::scopes_alive(), alive - 2);
    auto fresh = ticket_keys::for_scope(site);
    EXPECT_EQ(ticket_keys::scopes_alive(), alive - 1) << "a scope held again gets a new store";
}

}  // namespace
