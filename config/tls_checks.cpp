#include "config/tls_checks.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace tlsbroker::config {

namespace {

std::string reason() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "no PEM data found";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

struct file_closer {
    void operator()(FILE* f) const { std::fclose(f); }
};
using file_ptr = std::unique_ptr<FILE, file_closer>;

}  // namespace

std::string check_certificate_and_key(const std::filesystem::path& cert_path, const std::filesystem::path& key_path) {
    ERR_clear_error();
    file_ptr cf(std::fopen(cert_path.string().c_str(), "r"));
    if (!cf) return "cannot read certificate " + cert_path.string();
    X509* cert = PEM_read_X509(cf.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) return "malformed certificate " + cert_path.string() + ": " + reason();
    std::unique_ptr<X509, decltype(&X509_free)> c(cert, &X509_free);
    file_ptr kf(std::fopen(key_path.string().c_str(), "r"));
    if (!kf) return "cannot read private key " + key_path.string();
    EVP_PKEY* key = PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr);
    if (key == nullptr) return "malformed private key " + key_path.string() + ": " + reason();
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> k(key, &EVP_PKEY_free);
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        return "private key " + key_path.string() + " does not match certificate " + cert_path.string();
    }
    return {};
}

std::string check_ca_file(const std::filesystem::path& file) {
    ERR_clear_error();
    file_ptr f(std::fopen(file.string().c_str(), "r"));
    if (!f) return "cannot read " + file.string();
    X509* cert = PEM_read_X509(f.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) return "malformed CA certificate " + file.string() + ": " + reason();
    X509_free(cert);
    return {};
}

std::string check_crl_file(const std::filesystem::path& file) {
    ERR_clear_error();
    file_ptr f(std::fopen(file.string().c_str(), "r"));
    if (!f) return "cannot read " + file.string();
    X509_CRL* crl = PEM_read_X509_CRL(f.get(), nullptr, nullptr, nullptr);
    if (crl == nullptr) return "malformed CRL " + file.string() + ": " + reason();
    X509_CRL_free(crl);
    return {};
}

std::string check_ciphers(const std::string& list) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    ERR_clear_error();
    if (SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != 1) return "no usable cipher in \"" + list + "\"";
    // Only AEAD suites: each cipher must be GCM, CCM or ChaCha20-Poly1305.
    STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
        const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
        if (std::string(SSL_CIPHER_get_version(c)) == "TLSv1.3") continue;
        if (SSL_CIPHER_is_aead(c) != 1)
            return std::string("cipher ") + SSL_CIPHER_get_name(c) + " is not AEAD; only AEAD suites are allowed";
    }
    return {};
}

std::string check_ciphersuites(const std::string& list) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    ERR_clear_error();
    if (SSL_CTX_set_ciphersuites(ctx.get(), list.c_str()) != 1) {
        ERR_clear_error();
        return "invalid TLS 1.3 ciphersuites \"" + list + "\"";
    }
    return {};
}

}  // namespace tlsbroker::config
