#include "core/tls/peer_identity.hpp"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace tlsbroker::core {

namespace {

bool printable(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7f;
    });
}

// The one commonName as UTF-8; empty with `problem` set when it is missing or refused.
std::string common_name(X509_NAME* name, std::string& problem) {
    const int first = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (first < 0) return {};
    if (X509_NAME_get_index_by_NID(name, NID_commonName, first) >= 0) {
        problem = "several commonName entries";
        return {};
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, first));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n < 0) {
        problem = "commonName is not a valid string";
        return {};
    }
    std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    if (!printable(cn)) {
        problem = "commonName holds a NUL or a control character";
        return {};
    }
    return cn;
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
    char buf[64] = {0};
    const auto* d = ip->data;
    if (ip->length == 4)
        std::snprintf(buf, sizeof buf, "IP:%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
    else
        std::snprintf(buf, sizeof buf, "IP:%x:%x:%x:%x:%x:%x:%x:%x", d[0] << 8 | d[1], d[2] << 8 | d[3],
                      d[4] << 8 | d[5], d[6] << 8 | d[7], d[8] << 8 | d[9], d[10] << 8 | d[11], d[12] << 8 | d[13],
                      d[14] << 8 | d[15]);
    return buf;
}

void add_sans(X509* cert, client_identity& id) {
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (names == nullptr) return;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS || g->type == GEN_EMAIL || g->type == GEN_URI) {
            const auto* v = g->d.ia5;
            const std::string_view text(reinterpret_cast<const char*>(v->data), static_cast<std::size_t>(v->length));
            if (!printable(text)) {
                id.problem = "a subjectAltName holds a NUL or a control character";
                continue;
            }
            const char* tag = g->type == GEN_DNS ? "DNS:" : g->type == GEN_EMAIL ? "email:" : "URI:";
            id.sans.push_back(tag + std::string(text));
        } else if (g->type == GEN_IPADD && (g->d.ip->length == 4 || g->d.ip->length == 16)) {
            id.sans.push_back(ip_text(g->d.ip));
        }
    }
    GENERAL_NAMES_free(names);
}

}  // namespace

client_identity identity_of(X509* cert, bool verified) {
    client_identity id;
    if (cert == nullptr) return id;
    id.presented = true;
    id.verified = verified;
    X509_NAME* subject = X509_get_subject_name(cert);
    if (char* s = X509_NAME_oneline(subject, nullptr, 0)) {  // escapes non-printable bytes as \xNN
        id.subject = s;
        OPENSSL_free(s);
    }
    id.common_name = common_name(subject, id.problem);
    add_sans(cert, id);
    return id;
}

client_identity peer_identity(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return {};
    auto id = identity_of(cert, SSL_get_verify_result(ssl) == X509_V_OK);
    X509_free(cert);
    return id;
}

}  // namespace tlsbroker::core
