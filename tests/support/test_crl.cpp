#include "support/test_crl.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <stdexcept>

namespace tlsbroker::test {

namespace {
X509* read_cert(const std::filesystem::path& p) {
    FILE* f = std::fopen(p.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("cannot read " + p.string());
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (x == nullptr) throw std::runtime_error("bad certificate " + p.string());
    return x;
}
}  // namespace

void make_crl(const std::filesystem::path& ca_cert, const std::filesystem::path& ca_key,
              const std::vector<std::filesystem::path>& revoked, const std::filesystem::path& out,
              std::chrono::seconds next_update) {
    X509* ca = read_cert(ca_cert);
    FILE* kf = std::fopen(ca_key.c_str(), "r");
    if (kf == nullptr) throw std::runtime_error("cannot read " + ca_key.string());
    EVP_PKEY* key = PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr);
    std::fclose(kf);
    X509_CRL* crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
    ASN1_TIME* now = ASN1_TIME_adj(nullptr, time(nullptr), 0, -3600);
    ASN1_TIME* next = ASN1_TIME_adj(nullptr, time(nullptr), 0, static_cast<long>(next_update.count()));
    X509_CRL_set1_lastUpdate(crl, now);
    X509_CRL_set1_nextUpdate(crl, next);
    for (const auto& p : revoked) {
        X509* c = read_cert(p);
        X509_REVOKED* r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(c));
        X509_REVOKED_set_revocationDate(r, now);
        X509_CRL_add0_revoked(crl, r);
        X509_free(c);
    }
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, key, EVP_sha256());
    FILE* o = std::fopen(out.c_str(), "w");
    PEM_write_X509_CRL(o, crl);
    std::fclose(o);
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    EVP_PKEY_free(key);
    X509_free(ca);
}

}  // namespace tlsbroker::test
