// A TLS session resumes only on the listener that made it, and only under the client-auth
// policy that admitted its client: a session from a listener without client certificates
// does not get a client past a mutual-TLS listener (TLS 1.2 and 1.3), while resumption on
// the same listener keeps working, also across a reload that changes nothing.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

struct session_deleter {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using session_ptr = std::unique_ptr<SSL_SESSION, session_deleter>;

// Listener 0 "open": no client certificates. Listener 1 "mtls": client certificates from
// `ca` required. Both in front of the same backend.
struct two_listeners {
    std::filesystem::path dir = test::make_temp_dir("resume-scope");
    test::ca_files ca = test::make_ca(dir, "ca");
    test::cert_files client = test::make_leaf(ca, dir, "client", "client", true);
    test::cert_files server_cert = test::make_self_signed(dir, "mtls-server");
    test::echo_backend backend;
    nlohmann::json patch() const {
        return {{"listeners",
                 {{{"name", "open"}},
                  {{"name", "mtls"},
                   {"listen", "127.0.0.1:0"},
                   {"tls",
                    {{"certificate", server_cert.cert.string()},
                     {"private_key", server_cert.key.string()},
                     {"client_ca", ca.cert.string()},
                     {"verify_client", "required"}}},
                   {"backend", {{"address", "127.0.0.1:" + std::to_string(backend.port())}}}}}}};
    }
};

class resumption_scope : public ::testing::TestWithParam<int> {};

TEST_P(resumption_scope, a_session_from_a_listener_without_client_auth_does_not_pass_mutual_tls) {
    two_listeners env;
    test::broker_harness broker(env.backend.port(), env.patch());
    auto first = test::connect_and_resume(broker.port(0), GetParam(), nullptr);
    ASSERT_TRUE(first.relayed);
    session_ptr saved(first.session);
    ASSERT_NE(saved, nullptr) << "the open listener issued no resumable session";
    const auto served_before = env.backend.connections();

    const auto attempt = test::connect_and_resume(broker.port(1), GetParam(), saved.get());
    SSL_SESSION_free(attempt.session);
    EXPECT_FALSE(attempt.reused) << "the mutual-TLS listener resumed a session made without a client certificate";
    EXPECT_FALSE(attempt.relayed) << "a client without a certificate reached the backend through mutual TLS";
    EXPECT_TRUE(test::wait_until([&] { return broker.counter(core::counter::handshakes_failed, 1) >= 1; }, 5s));
    EXPECT_EQ(env.backend.connections(), served_before);
}

TEST_P(resumption_scope, a_session_from_another_listener_is_not_resumed_even_without_client_auth) {
    two_listeners env;
    auto patch = env.patch();
    patch["listeners"][1]["tls"]["verify_client"] = "none";
    patch["listeners"][1]["tls"].erase("client_ca");
    test::broker_harness broker(env.backend.port(), patch);
    auto first = test::connect_and_resume(broker.port(0), GetParam(), nullptr);
    session_ptr saved(first.session);
    ASSERT_NE(saved, nullptr);
    const auto attempt = test::connect_and_resume(broker.port(1), GetParam(), saved.get());
    SSL_SESSION_free(attempt.session);
    EXPECT_TRUE(attempt.relayed) << "a full handshake serves the client";
    EXPECT_FALSE(attempt.reused);
}

TEST_P(resumption_scope, a_session_resumes_on_the_mutual_tls_listener_that_made_it) {
    two_listeners env;
    test::broker_harness broker(env.backend.port(), env.patch());
    auto first = test::connect_and_resume(broker.port(1), GetParam(), nullptr, &env.client);
    ASSERT_TRUE(first.relayed);
    session_ptr saved(first.session);
    ASSERT_NE(saved, nullptr);
    const auto again = test::connect_and_resume(broker.port(1), GetParam(), saved.get(), &env.client);
    SSL_SESSION_free(again.session);
    EXPECT_TRUE(again.reused);
    EXPECT_TRUE(again.relayed);
}

TEST_P(resumption_scope, a_reload_that_changes_nothing_keeps_resumption) {
    two_listeners env;
    test::broker_harness broker(env.backend.port(), env.patch());
    auto first = test::connect_and_resume(broker.port(0), GetParam(), nullptr);
    session_ptr saved(first.session);
    ASSERT_NE(saved, nullptr);
    const auto res = broker.server().reload(broker.server().current_config());
    ASSERT_TRUE(res.ok) << (res.errors.empty() ? "" : res.errors[0]);
    const auto again = test::connect_and_resume(broker.port(0), GetParam(), saved.get());
    SSL_SESSION_free(again.session);
    EXPECT_TRUE(again.relayed);
    EXPECT_TRUE(again.reused) << "tickets are sealed per listener and survive a reload that keeps its policy";
}

INSTANTIATE_TEST_SUITE_P(tls, resumption_scope, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION),
                         [](const auto& info) { return info.param == TLS1_2_VERSION ? "tls12" : "tls13"; });

}  // namespace
