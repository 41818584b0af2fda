// The client identity taken from a certificate: UTF-8 whatever the string type, and names
// that could mislead (NUL, control characters, several CNs) refused with a reason.
#include "core/tls/peer_identity.hpp"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace {

using tlsbroker::core::identity_of;

struct x509_deleter {
    void operator()(X509* x) const { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_deleter>;

// A certificate whose subject has the given commonName entries, each as raw bytes of
// `type` (V_ASN1_UTF8STRING, V_ASN1_BMPSTRING, ...). Not signed: only names are read.
x509_ptr with_cns(int type, std::initializer_list<std::string> cns) {
    x509_ptr x(X509_new());
    X509_NAME* name = X509_get_subject_name(x.get());
    for (const auto& cn : cns)
        X509_NAME_add_entry_by_NID(name, NID_commonName, type, reinterpret_cast<const unsigned char*>(cn.data()),
                                   static_cast<int>(cn.size()), -1, 0);
    return x;
}

void add_dns_san(X509* x, const std::string& dns) {
    GENERAL_NAMES* names = GENERAL_NAMES_new();
    GENERAL_NAME* g = GENERAL_NAME_new();
    ASN1_IA5STRING* v = ASN1_IA5STRING_new();
    ASN1_STRING_set(v, dns.data(), static_cast<int>(dns.size()));
    GENERAL_NAME_set0_value(g, GEN_DNS, v);
    sk_GENERAL_NAME_push(names, g);
    X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(names);
}

TEST(peer_identity, a_utf8_common_name_is_taken_as_it_is) {
    auto x = with_cns(V_ASN1_UTF8STRING, {"Jos\xc3\xa9 site-7"});
    const auto id = identity_of(x.get(), true);
    EXPECT_TRUE(id.presented);
    EXPECT_EQ(id.common_name, "Jos\xc3\xa9 site-7");
    EXPECT_TRUE(id.problem.empty());
}

TEST(peer_identity, a_bmpstring_common_name_becomes_utf8_not_raw_bytes) {
    // "site-7" in UCS-2 big endian: a raw copy would be "\0s\0i\0t...", cut at the first NUL.
    const std::string bmp(
        "\0s\0i\0t\0e\0-\0"
        "7",
        12);
    auto x = with_cns(V_ASN1_BMPSTRING, {bmp});
    const auto id = identity_of(x.get(), true);
    EXPECT_EQ(id.common_name, "site-7");
    EXPECT_TRUE(id.problem.empty());
}

TEST(peer_identity, an_embedded_nul_is_refused_not_truncated) {
    auto x = with_cns(V_ASN1_UTF8STRING, {std::string("admin\0.evil", 11)});
    const auto id = identity_of(x.get(), true);
    EXPECT_EQ(id.common_name, "") << "a name cut at the NUL would read as 'admin'";
    EXPECT_NE(id.problem.find("NUL"), std::string::npos);
}

TEST(peer_identity, a_control_character_is_refused) {
    auto x = with_cns(V_ASN1_UTF8STRING, {"site\nX-Forged: 1"});
    const auto id = identity_of(x.get(), true);
    EXPECT_EQ(id.common_name, "");
    EXPECT_FALSE(id.problem.empty());
}

TEST(peer_identity, several_common_names_are_refused) {
    auto x = with_cns(V_ASN1_UTF8STRING, {"site-7", "admin"});
    const auto id = identity_of(x.get(), true);
    EXPECT_EQ(id.common_name, "") << "neither the first nor the last CN may win";
    EXPECT_NE(id.problem.find("several"), std::string::npos);
}

TEST(peer_identity, a_san_with_a_nul_is_left_out_and_the_others_kept) {
    auto x = with_cns(V_ASN1_UTF8STRING, {"site-7"});
    add_dns_san(x.get(), std::string("good.example\0.evil", 18));
    const auto id = identity_of(x.get(), true);
    EXPECT_TRUE(id.sans.empty());
    EXPECT_FALSE(id.problem.empty());
    EXPECT_EQ(id.common_name, "site-7");
}

}  // namespace
