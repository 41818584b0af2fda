// The command line (service/options.hpp). The installer modes run as SYSTEM with values an
// installing user chose, so a repeated mode, an unknown, repeated or extra argument, and a bad
// port or backend are usage errors (exit 2) that name the argument; nothing is parsed past them.
#include "service/options.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace tlsbroker::service;

namespace {

// The parse error, or "" when the command line was accepted.
std::string refusal(const std::vector<std::string>& args) {
    std::string error;
    const auto o = parse_options(args, error);
    if (o) return {};
    EXPECT_FALSE(error.empty()) << "a refusal without a message";
    return error.empty() ? "(no message)" : error;
}

options accepted(const std::vector<std::string>& args) {
    std::string error;
    const auto o = parse_options(args, error);
    EXPECT_TRUE(o) << error;
    return o.value_or(options{});
}

const std::string dir = "/tmp/tlsbroker-config";

}  // namespace

TEST(options, installer_mode_takes_its_values) {
    const auto o = accepted({"--write-default-config", dir, "--listen-port", "443", "--backend", "db.example:5432",
                             "--status-port", "9200"});
    EXPECT_EQ(o.what, mode::write_default_config);
    EXPECT_EQ(o.config_dir, dir);
    EXPECT_EQ(o.starter.listen_port, "443");
    EXPECT_EQ(o.starter.backend, "db.example:5432");
    EXPECT_EQ(o.starter.status_port, "9200");
    EXPECT_EQ(accepted({"--write-default-config", dir, "--backend", "[::1]:9000"}).starter.backend, "[::1]:9000");
    EXPECT_EQ(accepted({"--install-rollback", dir}).what, mode::install_rollback);
    EXPECT_EQ(accepted({"--install-commit", dir}).what, mode::install_commit);
    EXPECT_EQ(accepted({"--configure-service", dir}).what, mode::configure_service);
}

TEST(options, defaults_status_port_8417_not_node_exporters_9100) {
    const auto o = accepted({"--write-default-config", dir});
    EXPECT_EQ(o.starter.status_port, "8417");
    EXPECT_EQ(o.starter.listen_port, "8443");
    EXPECT_EQ(o.starter.backend, "127.0.0.1:9000");
}

TEST(options, the_run_and_check_modes_still_parse) {
    const auto run = accepted({"--config", "/etc/tlsbroker.json", "--console"});
    EXPECT_EQ(run.what, mode::run);
    EXPECT_EQ(run.config, "/etc/tlsbroker.json");
    EXPECT_TRUE(run.console);
    EXPECT_EQ(accepted({"-t", "x.json"}).what, mode::check_config);
    EXPECT_EQ(accepted({"--version"}).what, mode::version);
    EXPECT_EQ(accepted({}).what, mode::run);
    const auto grant = accepted({"--grant-key-access", "C:\\ProgramData\\tlsbroker\\tlsbroker.json"});
    EXPECT_EQ(grant.what, mode::grant_key_access);
    EXPECT_EQ(grant.config, "C:\\ProgramData\\tlsbroker\\tlsbroker.json");
    EXPECT_EQ(accepted({"--register-key-access-task", "x.json"}).what, mode::register_key_access_task);
    EXPECT_EQ(refusal({"--register-key-access-task", "x.json", "--grant-key-access", "y.json"}),
              "one mode per invocation (got --register-key-access-task and --grant-key-access)");
}

// The attack of issue #27: a value with a space became extra options, and the last mode won.
TEST(options, refuses_a_second_mode) {
    EXPECT_EQ(refusal({"--write-default-config", dir, "--install-rollback", "/victim"}),
              "one mode per invocation (got --write-default-config and --install-rollback)");
    EXPECT_NE(refusal({"--install-commit", dir, "--install-rollback", dir}), "");
    EXPECT_NE(refusal({"--configure-service", dir, "--write-default-config", dir}), "");
    EXPECT_NE(refusal({"--version", "--help"}), "");
    EXPECT_NE(refusal({"--check-config", "a.json", "--write-default-config", dir}), "");
}

TEST(options, refuses_a_repeated_mode_or_option) {
    EXPECT_EQ(refusal({"--install-rollback", dir, "--install-rollback", "/victim"}), "--install-rollback given twice");
    EXPECT_EQ(refusal({"--write-default-config", dir, "--backend", "a:1", "--backend", "b:2"}),
              "--backend given twice");
    EXPECT_EQ(refusal({"--config", "a.json", "-c", "b.json"}), "--config given twice");
}

TEST(options, refuses_unknown_and_extra_arguments) {
    EXPECT_EQ(refusal({"--write-default-config", dir, "extra"}), "unknown argument \"extra\"");
    EXPECT_EQ(refusal({"--install-rollback", dir, dir}), "unknown argument \"/tmp/tlsbroker-config\"");
    EXPECT_NE(refusal({"--write-default-config", dir, "--listen-port=443"}), "");
    EXPECT_NE(refusal({"--bogus"}), "");
}

TEST(options, refuses_an_option_that_belongs_to_another_mode) {
    EXPECT_EQ(refusal({"--install-rollback", dir, "--backend", "127.0.0.1:80"}),
              "--backend does not go with --install-rollback");
    EXPECT_EQ(refusal({"--write-default-config", dir, "--console"}),
              "--console does not go with --write-default-config");
    EXPECT_EQ(refusal({"--listen-port", "443"}), "--listen-port does not go with running the broker");
    EXPECT_NE(refusal({"--check-config", "a.json", "--config", "b.json"}), "");
}

TEST(options, refuses_a_missing_empty_or_option_value) {
    EXPECT_EQ(refusal({"--install-rollback"}), "--install-rollback needs a value");
    EXPECT_EQ(refusal({"--write-default-config", ""}), "--write-default-config needs a value (got an empty one)");
    EXPECT_EQ(refusal({"--write-default-config", "--install-rollback", dir}),
              "--write-default-config needs a value (got the option \"--install-rollback\")");
    EXPECT_NE(refusal({"--write-default-config", dir, "--backend", "--install-rollback", "/victim"}), "");
}

TEST(options, refuses_a_backend_with_a_space_quote_or_no_port) {
    // The value issue #27 passed through BACKEND.
    EXPECT_EQ(refusal({"--write-default-config", dir, "--backend", "127.0.0.1:80 --install-rollback C:\\victim"}),
              "--backend must be host:port without spaces, quotes or backslashes (got \"127.0.0.1:80 "
              "--install-rollback C:\\victim\")");
    for (const std::string bad : {"127.0.0.1:80\"", "host:80'", "a\\b:80", "a\tb:80", "a\nb:80", "host",
                                  "host:", "host:0", "host:65536", "host:-1", ":80", "::1:80", "bad_host!:80", ""})
        EXPECT_NE(refusal({"--write-default-config", dir, "--backend", bad}), "") << bad;
}

TEST(options, refuses_a_port_outside_1_to_65535) {
    for (const std::string bad :
         {"0", "00000", "65536", "-1", "+80", "8443 ", " 8443", "84a3", "0x50", "000080", "99999999999", "8\"443"}) {
        EXPECT_NE(refusal({"--write-default-config", dir, "--listen-port", bad}), "") << bad;
        EXPECT_NE(refusal({"--write-default-config", dir, "--status-port", bad}), "") << bad;
    }
    EXPECT_EQ(refusal({"--write-default-config", dir, "--status-port", "70000"}),
              "--status-port must be an integer in 1..65535 (got \"70000\")");
    EXPECT_EQ(accepted({"--write-default-config", dir, "--listen-port", "1"}).starter.listen_port, "1");
    EXPECT_EQ(accepted({"--write-default-config", dir, "--listen-port", "65535"}).starter.listen_port, "65535");
    EXPECT_EQ(accepted({"--write-default-config", dir, "--status-port", "08417"}).starter.status_port, "8417");
}

TEST(options, a_refusal_message_shows_control_bytes_escaped) {
    EXPECT_EQ(refusal({"--bad\r\nline"}), "unknown argument \"--bad\\x0D\\x0Aline\"");
}

// The MSI passes CERT_THUMBPRINT, CERT_SUBJECT and CERT_STORE on every install, empty when not
// set: empty is "not given", anything else is checked like the config's certificate_store.
TEST(options, store_certificate_values_are_checked_and_empty_ones_are_not_given) {
    auto o = accepted({"--write-default-config", dir, "--cert-thumbprint", "", "--cert-subject", "", "--cert-store",
                       "LocalMachine\\My"});
    EXPECT_FALSE(o.starter.certificate_store.used());
    o = accepted({"--write-default-config", dir, "--cert-thumbprint",
                  "3a 4f 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11", "--cert-subject", "", "--cert-store",
                  "LocalMachine\\WebHosting"});
    EXPECT_EQ(o.starter.certificate_store.thumbprint, "3A4F00112233445566778899AABBCCDDEEFF0011");
    EXPECT_EQ(o.starter.certificate_store.location, "LocalMachine");
    EXPECT_EQ(o.starter.certificate_store.store, "WebHosting");
    o = accepted({"--write-default-config", dir, "--cert-subject", "CN=site01.example, O=Site"});
    EXPECT_EQ(o.starter.certificate_store.subject, "CN=site01.example, O=Site");
    EXPECT_EQ(o.starter.certificate_store.store, "My");

    EXPECT_EQ(refusal({"--write-default-config", dir, "--cert-thumbprint", "3A4F00112233445566778899AABBCCDDEEFF0011",
                       "--cert-subject", "CN=a"}),
              "--cert-thumbprint and --cert-subject: give one, not both");
    EXPECT_NE(refusal({"--write-default-config", dir, "--cert-thumbprint", "3A4F"}).find("--cert-thumbprint"),
              std::string::npos);
    EXPECT_NE(refusal({"--write-default-config", dir, "--cert-subject", "XX=a"}).find("--cert-subject"),
              std::string::npos);
    for (const char* bad : {"My", "Elsewhere\\My", "LocalMachine\\", "LocalMachine\\My\\x", "LocalMachine/My"})
        EXPECT_NE(refusal({"--write-default-config", dir, "--cert-store", bad}).find("--cert-store must be"),
                  std::string::npos)
            << bad;
    EXPECT_EQ(refusal({"--write-default-config", dir, "--cert-subject", "CN=a\" --install-rollback x"}),
              "--cert-subject must not hold quotes or control characters (got \"CN=a\" --install-rollback x\")");
    EXPECT_EQ(refusal({"--run-as-if", dir}), "unknown argument \"--run-as-if\"");
    EXPECT_EQ(refusal({"--config", dir, "--cert-subject", "CN=a"}),
              "--cert-subject does not go with running the broker");
}
