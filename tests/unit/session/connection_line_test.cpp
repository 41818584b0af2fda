#include "core/session/connection_line.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

using namespace tlsbroker::core;

TEST(connection_line, plain_values_are_bare_others_quoted_and_escaped) {
    std::string line;
    append_log_field(line, "a", "simple-1.2:3");
    append_log_field(line, "b", "");
    append_log_field(line, "c", "two words");
    append_log_field(line, "d", "q\"b\\s");
    append_log_field(line, "e", std::string("nl\nnul\0x", 8));
    append_log_field(line, "f", "k=v");
    append_log_field(line, "g", "CN=x", true);
    EXPECT_EQ(line, R"(a=simple-1.2:3 b=- c="two words" d="q\"b\\s" e="nl\x0anul\x00x" f="k=v" g="CN=x")");
}

TEST(connection_line, versions_in_short_form) {
    EXPECT_EQ(tls_version_text(TLS1_3_VERSION), "1.3");
    EXPECT_EQ(tls_version_text(TLS1_2_VERSION), "1.2");
    EXPECT_EQ(tls_version_text(0), "-");
}

TEST(connection_line, openssl_reasons_in_short_form) {
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, nullptr);  // the broker's contexts do this
    EXPECT_EQ(short_tls_reason(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_NO_SHARED_CIPHER)), "no_shared_cipher");
    EXPECT_EQ(short_tls_reason(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNSUPPORTED_PROTOCOL)), "unsupported_protocol");
    EXPECT_EQ(short_tls_reason(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)),
              "certificate_required");
    EXPECT_EQ(short_tls_reason(0), "unknown");
}
