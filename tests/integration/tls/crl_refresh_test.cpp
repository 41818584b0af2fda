// A CRL replaced on disk is picked up without a signal: a client certificate it newly
// revokes is refused at its next handshake, and the loads are counted.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/test_crl.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

// A listener on `port` that requires client certificates from `ca` and checks them against
// `crl`, with the files looked at every second.
nlohmann::json watched_crl_config(std::uint16_t port, const std::filesystem::path& ca,
                                  const std::filesystem::path& crl) {
    return {{"tls", {{"reload_check_s", 1}}},
            {"listeners",
             {{{"listen", "127.0.0.1:" + std::to_string(port)},
               {"tls", {{"client_ca", ca.string()}, {"verify_client", "required"}, {"crl", crl.string()}}}}}}};
}

// A CA, a client "alice" it signed, an empty CRL, and a broker requiring client certificates
// from the CA and watching the CRL (watched_crl_config), in front of an echo backend.
struct watched_crl {
    struct files_t {
        std::filesystem::path dir;
        test::ca_files ca;
        test::cert_files alice;
        std::filesystem::path crl;
        std::uint16_t port;
    };
    static files_t make(const char* tag) {
        files_t f;
        f.dir = test::make_temp_dir(tag);
        f.ca = test::make_ca(f.dir);
        f.alice = test::make_leaf(f.ca, f.dir, "alice", "alice", true);
        f.crl = f.dir / "clients.crl";
        test::make_crl(f.ca.cert, f.ca.key, {}, f.crl);
        f.port = test::unused_port();
        return f;
    }
    explicit watched_crl(const char* tag)
        : files(make(tag)), broker(backend.port(), watched_crl_config(files.port, files.ca.cert, files.crl)) {}
    files_t files;
    test::echo_backend backend;
    test::broker_harness broker;
};

}  // namespace

TEST(crl_refresh, changed_crl_revoking_a_client_takes_effect_without_a_reload) {
    watched_crl env("crl-refresh");
    const auto& [dir, ca, alice, crl, port] = env.files;
    auto& broker = env.broker;
    const auto attempt = [&] {
        test::tls_client c;
        c.set_timeout(5s);
        c.use_certificate(alice.cert.string(), alice.key.string());
        std::string got;
        // TLS 1.3 reports a rejected client certificate on the first read, not in SSL_connect.
        return c.connect(port) && c.handshake() && c.write_all("hi") && c.read_exact(2, got);
    };
    ASSERT_TRUE(attempt());
    EXPECT_EQ(broker.total(core::counter::crl_loads_ok), 1u);

    const auto tmp = dir / "clients.crl.new";
    test::make_crl(ca.cert, ca.key, {alice.cert}, tmp);
    std::filesystem::rename(tmp, crl);
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::certificate_reloads_ok) >= 1; }, 15s));
    EXPECT_EQ(broker.total(core::counter::crl_loads_ok), 2u);
    EXPECT_EQ(broker.total(core::counter::crl_loads_failed), 0u);
    EXPECT_FALSE(attempt()) << "alice is revoked now";
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_failed) >= 1; }, 5s));

    int code = 0;
    const auto st = nlohmann::json::parse(test::http_get(broker.status_port(), "/status", code));
    EXPECT_EQ(st["certificate_watch"]["crls"][0]["revoked"], 1);
    EXPECT_EQ(st["certificate_watch"]["crls"][0]["stale"], false);
}

TEST(crl_refresh, a_client_revoked_since_its_handshake_cannot_resume_its_session) {
    watched_crl env("crl-resume");
    const auto& [dir, ca, alice, crl, port] = env.files;
    auto& broker = env.broker;
    const std::pair<int, const char*> versions[] = {{TLS1_2_VERSION, "TLS 1.2"}, {TLS1_3_VERSION, "TLS 1.3"}};
    std::vector<SSL_SESSION*> held;
    for (const auto& [version, name] : versions) {
        SCOPED_TRACE(name);
        auto first = test::connect_and_resume(port, version, nullptr, &alice);
        ASSERT_TRUE(first.relayed);
        ASSERT_NE(first.session, nullptr);
        auto check = test::connect_and_resume(port, version, first.session, &alice);
        EXPECT_TRUE(check.reused) << "before the CRL changes, alice resumes";
        SSL_SESSION_free(check.session);
        held.push_back(first.session);
    }
    const auto tmp = dir / "clients.crl.new";
    test::make_crl(ca.cert, ca.key, {alice.cert}, tmp);
    std::filesystem::rename(tmp, crl);
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::certificate_reloads_ok) >= 1; }, 15s));
    for (std::size_t i = 0; i < held.size(); ++i) {
        SCOPED_TRACE(versions[i].second);
        const auto after = test::connect_and_resume(port, versions[i].first, held[i], &alice);
        SSL_SESSION_free(after.session);
        SSL_SESSION_free(held[i]);
        EXPECT_FALSE(after.reused) << "a session from before the CRL refresh was resumed";
        EXPECT_FALSE(after.relayed) << "a revoked client got through by resuming";
    }
}

TEST(crl_refresh, crl_past_its_next_update_is_re_read_then_and_counted_stale) {
    const auto dir = test::make_temp_dir("crl-stale");
    const auto ca = test::make_ca(dir);
    const auto crl = dir / "clients.crl";
    test::make_crl(ca.cert, ca.key, {}, crl, std::chrono::seconds(3));
    test::echo_backend backend;
    const auto port = test::unused_port();
    // A long check period: the CRL is re-read at its nextUpdate all the same.
    test::broker_harness broker(
        backend.port(),
        {{"tls", {{"reload_check_s", 3600}}},
         {"listeners",
          {{{"listen", "127.0.0.1:" + std::to_string(port)},
            {"tls", {{"client_ca", ca.cert.string()}, {"verify_client", "optional"}, {"crl", crl.string()}}}}}}});
    EXPECT_EQ(broker.total(core::counter::crl_stale), 0u);
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::crl_stale) == 1; }, 10s));
    int code = 0;
    auto st = nlohmann::json::parse(test::http_get(broker.status_port(), "/status", code));
    EXPECT_EQ(st["certificate_watch"]["crls"][0]["stale"], true);
}

TEST(crl_refresh, half_written_crl_is_refused_and_the_loaded_one_stays) {
    watched_crl env("crl-half");
    const auto& [dir, ca, alice, crl, port] = env.files;
    auto& broker = env.broker;
    // A CRL revoking alice, cut off half-way (a copy that was interrupted).
    const auto full = dir / "full.crl";
    test::make_crl(ca.cert, ca.key, {alice.cert}, full);
    std::string text;
    {
        std::ifstream f(full, std::ios::binary);
        text.assign(std::istreambuf_iterator<char>(f), {});
    }
    test::write_file(crl, text.substr(0, text.size() / 2));
    ASSERT_TRUE(test::wait_until([&] { return broker.total(core::counter::crl_loads_failed) == 1; }, 15s));
    EXPECT_EQ(broker.total(core::counter::certificate_reloads_failed), 1u);
    EXPECT_EQ(broker.total(core::counter::crl_loads_ok), 1u);
    // The CRL loaded at start still serves: alice gets in.
    test::tls_client c;
    c.set_timeout(5s);
    c.use_certificate(alice.cert.string(), alice.key.string());
    std::string got;
    EXPECT_TRUE(c.connect(port) && c.handshake() && c.write_all("hi") && c.read_exact(2, got));
}
