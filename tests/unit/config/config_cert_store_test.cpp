// tls.certificate_store (config/cert_store.cpp): the reference as read from JSON, each problem
// at its pointer; on Linux an error naming the path; and the choice among the store's
// certificates, with fake candidates and with candidates made from generated certificates.
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "config/cert_store.hpp"
#include "config/loader.hpp"
#include "support/config_support.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
using nlohmann::json;

namespace {

const std::string thumb = "3A4F0123456789ABCDEF0123456789ABCDEF0123";

json with_tls(const json& tls) {
    return {
        {"listeners", {{{"listen", "127.0.0.1:8443"}, {"tls", tls}, {"backend", {{"address", "127.0.0.1:9000"}}}}}}};
}
config::load_result load(const json& tls) { return config::load_text(with_tls(tls).dump(), "."); }

using test::has_error;

config::store_candidate fake(std::string thumbprint, std::string cn, std::int64_t nb, std::int64_t na, bool key = true,
                             bool server_auth = true) {
    config::store_candidate c;
    c.thumbprint = std::move(thumbprint);
    c.names = {{"CN", cn}, {"O", "Site"}};
    c.subject = "CN=" + cn + ",O=Site";
    c.not_before = nb;
    c.not_after = na;
    c.has_key = key;
    c.server_auth = server_auth;
    return c;
}

config::store_reference by_subject(std::string s) {
    config::store_reference r;
    r.subject = std::move(s);
    return r;
}

config::store_candidate from_file(const std::filesystem::path& pem, bool key) {
    FILE* f = std::fopen(pem.c_str(), "rb");
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    unsigned char* der = nullptr;
    const int n = i2d_X509(x, &der);
    auto c = config::candidate_from_der(der, n, key);
    OPENSSL_free(der);
    X509_free(x);
    EXPECT_TRUE(c.has_value());
    return c.value_or(config::store_candidate{});
}

}  // namespace

TEST(config_cert_store, thumbprint_drops_spaces_and_colons_and_folds_case) {
    std::string problem;
    EXPECT_EQ(config::normalize_thumbprint("3a 4f:01 23456789abcdef0123456789ABCDEF0123", problem), thumb);
    EXPECT_EQ(problem, "");
    EXPECT_EQ(config::normalize_thumbprint("3A4F", problem), "");
    EXPECT_NE(problem.find("40 hex digits"), std::string::npos) << problem;
    problem.clear();
    EXPECT_EQ(config::normalize_thumbprint(thumb.substr(0, 39) + "G", problem), "");
    EXPECT_NE(problem.find("'G'"), std::string::npos) << problem;
}

TEST(config_cert_store, subject_is_attribute_pairs_and_a_bare_value_is_a_cn) {
    std::string problem;
    using pairs = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(config::parse_subject("CN=site01.example", problem), (pairs{{"CN", "site01.example"}}));
    EXPECT_EQ(config::parse_subject(" cn = a.example , O=Site, E=x@y", problem),
              (pairs{{"CN", "a.example"}, {"O", "Site"}, {"emailAddress", "x@y"}}));
    EXPECT_EQ(config::parse_subject("site01.example", problem), (pairs{{"CN", "site01.example"}}));
    EXPECT_EQ(problem, "");
    EXPECT_TRUE(config::parse_subject("CN=a,,O=b", problem).empty());
    EXPECT_NE(problem.find("no empty part"), std::string::npos) << problem;
    EXPECT_TRUE(config::parse_subject("XYZZY=a", problem).empty());
    EXPECT_NE(problem.find("XYZZY"), std::string::npos) << problem;
}

TEST(config_cert_store, on_linux_a_store_reference_is_an_error_at_its_path) {
    auto r = load({{"certificate_store", {{"location", "LocalMachine"}, {"store", "My"}, {"thumbprint", thumb}}}});
    ASSERT_EQ(test::error_pointers(r), std::vector<std::string>{"/listeners/0/tls/certificate_store"}) << test::all(r);
    EXPECT_NE(r.errors[0].message.find("the certificate store is Windows only; use certificate and private_key"),
              std::string::npos);
    auto cert = test::make_self_signed(test::make_temp_dir("cert-store"));
    r = load({{"certificate", cert.cert.string()},
              {"private_key", cert.key.string()},
              {"sni", {{{"server_names", {"b.example"}}, {"certificate_store", {{"subject", "CN=b.example"}}}}}}});
    EXPECT_EQ(test::error_pointers(r), std::vector<std::string>{"/listeners/0/tls/sni/0/certificate_store"})
        << test::all(r);
}

TEST(config_cert_store, each_shape_problem_names_its_path) {
    const std::string at = "/listeners/0/tls/certificate_store";
    auto r = load({{"certificate_store", {{"thumbprint", thumb}, {"subject", "CN=a"}}}});
    EXPECT_EQ(test::error_pointers(r), std::vector<std::string>{at + "/subject"}) << test::all(r);
    r = load({{"certificate_store", {{"location", "LocalMachine"}}}});
    EXPECT_EQ(test::error_pointers(r), std::vector<std::string>{at}) << test::all(r);
    r = load({{"certificate_store", {{"location", "Machine"}, {"thumbprint", thumb}}}});
    EXPECT_TRUE(has_error(r, at + "/location", "\"LocalMachine\", \"CurrentUser\"")) << test::all(r);
    r = load({{"certificate_store", {{"thumbprint", "12:34"}}}});
    EXPECT_EQ(test::error_pointers(r), std::vector<std::string>{at + "/thumbprint"}) << test::all(r);
    r = load({{"certificate_store", {{"store", "LocalMachine\\My"}, {"thumbprint", thumb}}}});
    EXPECT_TRUE(has_error(r, at + "/store", "must name one store")) << test::all(r);
    r = load({{"certificate_store", {{"thumbprint", thumb}, {"thumb", "x"}}}});
    EXPECT_TRUE(has_error(r, at + "/thumb", "unknown")) << test::all(r);
    r = load({{"certificate", "site.pem"}, {"certificate_store", {{"thumbprint", thumb}}}});
    EXPECT_TRUE(has_error(r, "/listeners/0/tls/certificate", "not both")) << test::all(r);
}

TEST(config_cert_store, by_thumbprint_that_one_if_it_has_a_key_and_may_serve) {
    const std::vector<config::store_candidate> all{fake(std::string(40, 'A'), "a", 0, 100),
                                                   fake(std::string(40, 'B'), "a", 0, 200, false),
                                                   fake(std::string(40, 'C'), "a", 0, 300, true, false)};
    config::store_reference ref;
    ref.thumbprint = std::string(40, 'A');
    EXPECT_EQ(config::choose_certificate(all, ref, 50).index, 0u);
    ref.thumbprint = std::string(40, 'B');
    auto c = config::choose_certificate(all, ref, 50);
    EXPECT_FALSE(c.index);
    EXPECT_NE(c.problem.find("has no private key"), std::string::npos) << c.problem;
    ref.thumbprint = std::string(40, 'C');
    c = config::choose_certificate(all, ref, 50);
    EXPECT_NE(c.problem.find("server authentication"), std::string::npos) << c.problem;
    ref.thumbprint = std::string(40, 'D');
    c = config::choose_certificate(all, ref, 50);
    EXPECT_EQ(c.problem, "no certificate with thumbprint " + ref.thumbprint + " in LocalMachine\\My");
}

TEST(config_cert_store, by_subject_the_valid_one_with_the_latest_not_after) {
    const std::vector<config::store_candidate> all{fake("1", "site.example", 0, 1000),
                                                   fake("2", "site.example", 0, 2000),
                                                   fake("3", "site.example", 600, 9000),       // not valid yet at 500
                                                   fake("4", "site.example", 0, 5000, false),  // no key
                                                   fake("5", "site.example", 0, 6000, true, false),  // client auth only
                                                   fake("6", "other.example", 0, 7000)};
    EXPECT_EQ(config::choose_certificate(all, by_subject("CN=site.example"), 500).index, 1u);
    EXPECT_EQ(config::choose_certificate(all, by_subject("cn=SITE.example, o=site"), 500).index, 1u);
    EXPECT_EQ(config::choose_certificate(all, by_subject("CN=site.example"), 700).index, 2u) << "renewed";
    // Every usable one expired: the latest, served degraded like an expired file.
    EXPECT_EQ(config::choose_certificate(all, by_subject("CN=site.example"), 9500).index, 2u);
    auto c = config::choose_certificate(all, by_subject("CN=none.example"), 500);
    EXPECT_EQ(c.problem, "no certificate with subject \"CN=none.example\" in LocalMachine\\My");
    const std::vector<config::store_candidate> unusable{fake("4", "site.example", 0, 5000, false)};
    c = config::choose_certificate(unusable, by_subject("CN=site.example"), 500);
    EXPECT_NE(c.problem.find("none has both a private key and server authentication"), std::string::npos) << c.problem;
}

// --grant-key-access: by subject, every usable match (a renewal already enrolled is served
// next, so its key must be readable too), not only today's choice; by thumbprint, that one.
TEST(config_cert_store, keys_to_grant_are_every_usable_match_not_only_the_chosen_one) {
    const std::vector<config::store_candidate> all{fake("1", "site.example", 0, 1000),
                                                   fake("2", "site.example", 600, 9000),             // not valid yet
                                                   fake("3", "site.example", 0, 5000, false),        // no key
                                                   fake("4", "site.example", 0, 6000, true, false),  // client auth only
                                                   fake("5", "other.example", 0, 7000)};
    EXPECT_EQ(config::certificates_to_grant(all, by_subject("CN=site.example")), (std::vector<std::size_t>{0, 1}));
    EXPECT_TRUE(config::certificates_to_grant(all, by_subject("CN=none.example")).empty());
    config::store_reference thumb;
    thumb.thumbprint = "5";
    EXPECT_EQ(config::certificates_to_grant(all, thumb), (std::vector<std::size_t>{4}));
    thumb.thumbprint = "3";  // no key: nothing to grant
    EXPECT_TRUE(config::certificates_to_grant(all, thumb).empty());
}

TEST(config_cert_store, candidates_from_real_certificates_carry_names_dates_and_usage) {
    const auto dir = test::make_temp_dir("cert-store-der");
    const auto ca = test::make_ca(dir);
    const auto server = test::make_leaf(ca, dir, "server", "site.example");
    const auto client = test::make_leaf(ca, dir, "client", "site.example", true);
    const auto expired =
        test::make_self_signed(dir, "old", "site.example", test::key_type::rsa2048, std::chrono::seconds(-3600));
    const std::vector<config::store_candidate> all{from_file(server.cert, true), from_file(client.cert, true),
                                                   from_file(expired.cert, true)};
    EXPECT_EQ(all[0].thumbprint.size(), 40u);
    EXPECT_TRUE(all[0].server_auth);
    EXPECT_FALSE(all[1].server_auth) << "a client certificate may not serve";
    EXPECT_NE(all[0].subject.find("CN=site.example"), std::string::npos) << all[0].subject;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    EXPECT_LT(all[2].not_after, now);
    EXPECT_GT(all[0].not_after, now);
    const auto pick = config::choose_certificate(all, by_subject("CN=site.example"), now);
    EXPECT_EQ(pick.index, 0u) << pick.problem;
    config::store_reference ref;
    ref.thumbprint = all[2].thumbprint;
    EXPECT_EQ(config::choose_certificate(all, ref, now).index, 2u) << "by thumbprint even when expired";
}
