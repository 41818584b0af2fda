// The connection line says what TLS was spoken (service/README.md, "The connection line"):
// version, cipher, ALPN, resumed or full, the client certificate's subject and SHA-256, and on
// a failed handshake OpenSSL's reason in short form. Checked for TLS 1.2, TLS 1.3, a resumed
// session, a client certificate, and handshakes that fail (no shared cipher, certificate
// required), each line read back through a parser of the documented quoting.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <map>

#include "core/common/log.hpp"
#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

// key=value pairs; a quoted value ends at an unescaped quote, \" \\ and \xNN are undone.
std::map<std::string, std::string> fields_of(const std::string& line) {
    std::map<std::string, std::string> out;
    std::size_t p = line.find("connection ");
    if (p == std::string::npos) return out;
    p += 11;
    while (p < line.size()) {
        const auto eq = line.find('=', p);
        if (eq == std::string::npos) break;
        const auto key = line.substr(p, eq - p);
        std::string value;
        p = eq + 1;
        if (p < line.size() && line[p] == '"') {
            for (++p; p < line.size() && line[p] != '"'; ++p) {
                if (line[p] == '\\' && p + 1 < line.size() && line[p + 1] == 'x' && p + 3 < line.size()) {
                    value += static_cast<char>(std::stoi(line.substr(p + 2, 2), nullptr, 16));
                    p += 3;
                } else if (line[p] == '\\' && p + 1 < line.size()) {
                    value += line[++p];
                } else {
                    value += line[p];
                }
            }
            ++p;  // the closing quote
        } else {
            const auto end = line.find(' ', p);
            value = line.substr(p, end == std::string::npos ? std::string::npos : end - p);
            p = end == std::string::npos ? line.size() : end;
        }
        out[key] = value;
        if (p < line.size() && line[p] == ' ') ++p;
    }
    return out;
}

// Waits for the next connection line after the `seen` ones and returns its fields.
std::map<std::string, std::string> next_line(const log::capture& lines, std::size_t& seen) {
    std::vector<std::string> found;
    const bool ok = test::wait_until(
        [&] {
            found.clear();
            for (const auto& l : lines.lines())
                if (l.find("connection listener=") != std::string::npos) found.push_back(l);
            return found.size() > seen;
        },
        5s);
    if (!ok) return {};
    return fields_of(found[seen++]);
}

std::string sha256_of(const std::filesystem::path& pem) {
    FILE* f = std::fopen(pem.string().c_str(), "r");
    if (f == nullptr) return {};
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(x, EVP_sha256(), md, &n);
    X509_free(x);
    std::string out;
    char buf[3];
    for (unsigned i = 0; i < n; ++i) std::snprintf(buf, sizeof buf, "%02x", md[i]), out += buf;
    return out;
}

struct session_deleter {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};

}  // namespace

TEST(connection_line, names_version_cipher_and_resumption) {
    test::echo_backend backend;
    log::capture lines;
    test::broker_harness broker(backend.port(), {{"log", {{"level", "info"}}}});
    log::set_level(log::level::info);
    std::size_t seen = 0;

    auto first = test::connect_and_resume(broker.port(), TLS1_3_VERSION, nullptr);
    ASSERT_TRUE(first.relayed);
    std::unique_ptr<SSL_SESSION, session_deleter> saved(first.session);
    auto f = next_line(lines, seen);
    EXPECT_EQ(f["tls"], "1.3");
    EXPECT_EQ(f["cipher"], "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(f["alpn"], "-");
    EXPECT_EQ(f["resumed"], "no");
    EXPECT_EQ(f["client_cert"], "-");
    EXPECT_EQ(f["sha256"], "-");
    EXPECT_FALSE(f.contains("reason"));
    EXPECT_EQ(f["listener"], "test");

    const auto again = test::connect_and_resume(broker.port(), TLS1_3_VERSION, saved.get());
    SSL_SESSION_free(again.session);
    ASSERT_TRUE(again.relayed && again.reused);
    f = next_line(lines, seen);
    EXPECT_EQ(f["tls"], "1.3");
    EXPECT_EQ(f["resumed"], "yes");

    const auto v12 = test::connect_and_resume(broker.port(), TLS1_2_VERSION, nullptr);
    SSL_SESSION_free(v12.session);
    ASSERT_TRUE(v12.relayed);
    f = next_line(lines, seen);
    EXPECT_EQ(f["tls"], "1.2");
    EXPECT_EQ(f["cipher"].rfind("ECDHE-", 0), 0u) << f["cipher"];
    EXPECT_EQ(f["resumed"], "no");
}

TEST(connection_line, a_failed_handshake_gives_the_short_openssl_reason) {
    test::echo_backend backend;
    log::capture lines;
    test::broker_harness broker(backend.port(), {{"log", {{"level", "info"}}}});
    log::set_level(log::level::info);
    std::size_t seen = 0;

    // TLS 1.2 with only a CBC suite: the broker offers AEAD suites only.
    test::tls_client c;
    c.set_max_version(TLS1_2_VERSION);
    ASSERT_TRUE(c.connect(broker.port()));
    c.set_session(nullptr);  // makes the SSL object so its cipher list can be set
    ASSERT_EQ(SSL_set_cipher_list(c.ssl(), "AES128-SHA"), 1);
    EXPECT_FALSE(c.handshake());
    auto f = next_line(lines, seen);
    EXPECT_EQ(f["end"], "handshake-error");
    EXPECT_EQ(f["reason"], "no_shared_cipher");
    EXPECT_EQ(f["tls"], "-");
    EXPECT_EQ(f["resumed"], "-");

    // Plain bytes where a ClientHello belongs.
    test::tls_client raw;
    ASSERT_TRUE(raw.connect(broker.port()));
    ASSERT_TRUE(raw.write_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    f = next_line(lines, seen);
    EXPECT_EQ(f["end"], "handshake-error");
    EXPECT_EQ(f["reason"], "http_request");
}

TEST(connection_line, client_certificate_subject_and_fingerprint_or_certificate_required) {
    const auto dir = test::make_temp_dir("connection-line");
    const auto ca = test::make_ca(dir, "ca");
    const auto client = test::make_leaf(ca, dir, "client", "client one", true);
    test::echo_backend backend;
    log::capture lines;
    test::broker_harness broker(
        backend.port(), {{"log", {{"level", "info"}}},
                         {"listeners", {{{"tls", {{"client_ca", ca.cert.string()}, {"verify_client", "required"}}}}}}});
    log::set_level(log::level::info);
    std::size_t seen = 0;

    const auto with = test::connect_and_resume(broker.port(), TLS1_3_VERSION, nullptr, &client);
    SSL_SESSION_free(with.session);
    ASSERT_TRUE(with.relayed);
    auto f = next_line(lines, seen);
    EXPECT_EQ(f["client_cert"], "CN=client one");  // quoted in the line: it holds a space
    EXPECT_EQ(f["sha256"], sha256_of(client.cert));
    EXPECT_EQ(f["sha256"].size(), 64u);

    const auto without = test::connect_and_resume(broker.port(), TLS1_3_VERSION, nullptr);
    SSL_SESSION_free(without.session);
    EXPECT_FALSE(without.relayed);
    f = next_line(lines, seen);
    EXPECT_EQ(f["end"], "handshake-error");
    EXPECT_EQ(f["reason"], "certificate_required");
    EXPECT_EQ(f["client_cert"], "-");
}
