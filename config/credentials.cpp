#include "config/credentials.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>

#include <cstring>
#include <optional>

#include "config/cert_store.hpp"
#include "config/json_reader.hpp"
#include "config/openssl_errors.hpp"

namespace tlsbroker::config {

namespace {

bio_ptr memory_bio(const std::string& content) {
    return {BIO_new_mem_buf(content.data(), static_cast<int>(content.size())), &BIO_free};
}

// Gives OpenSSL the password when there is one; never prompts. Notes that one was asked for.
struct password_request {
    const std::optional<std::string>* password;
    bool asked = false;
};
int give_password(char* buf, int size, int /*rwflag*/, void* arg) {
    auto* r = static_cast<password_request*>(arg);
    r->asked = true;
    if (!r->password->has_value() || (*r->password)->size() > static_cast<std::size_t>(size)) return -1;
    // OpenSSL takes the length returned, so no terminating NUL.
    std::copy_n((*r->password)->data(), (*r->password)->size(), buf);
    return static_cast<int>((*r->password)->size());
}

// The certificate's field: "certificate", or "certificate_store".
const char* cert_field(const certificate_source& s) { return s.store.used() ? "certificate_store" : "certificate"; }
// The key's own field when it has one, else the certificate's.
const char* key_field(const certificate_source& s) { return s.private_key.empty() ? cert_field(s) : "private_key"; }

void read_pem_chain(const certificate_source& s, const std::string& content, credentials& c) {
    auto bio = memory_bio(content);
    std::vector<x509_ptr> all;
    while (true) {
        X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (x == nullptr) {
            if (!all.empty() && pem_no_start_line()) {
                ERR_clear_error();
                break;
            }
            c.problems.push_back({"certificate", "malformed certificate " + s.certificate.string() + " (block " +
                                                     std::to_string(all.size() + 1) +
                                                     "): " + openssl_reason("CERTIFICATE")});
            return;
        }
        all.emplace_back(x);
    }
    c.leaf = std::move(all.front());
    for (std::size_t i = 1; i < all.size(); ++i) c.chain.push_back(std::move(all[i]));
}

void read_pem_key(const certificate_source& s, const std::string& cert_content,
                  const std::optional<std::string>& password, credentials& c) {
    std::string own;
    const bool apart = !s.private_key.empty();
    if (apart)
        if (const auto why = read_file(s.private_key, own); !why.empty()) {
            c.problems.push_back({"private_key", "cannot read " + s.private_key.string() + ": " + why});
            return;
        }
    const auto& file = apart ? s.private_key : s.certificate;
    auto bio = memory_bio(apart ? own : cert_content);
    password_request r{&password};
    ERR_clear_error();
    c.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &give_password, &r));
    if (c.key) return;
    if (r.asked && !password) {
        ERR_clear_error();
        c.problems.push_back({key_field(s), "private key in " + file.string() +
                                                " is encrypted; name a file holding its passphrase in "
                                                "certificate_password_file"});
    } else if (r.asked) {
        ERR_clear_error();
        c.problems.push_back({"certificate_password_file", "wrong password for the private key in " + file.string() +
                                                               " (from " + s.password_file.string() + ")"});
    } else if (!apart && cert_content.find("PRIVATE KEY-----") == std::string::npos) {
        ERR_clear_error();
        c.problems.push_back({"certificate", s.certificate.string() +
                                                 " holds no private key: name the key's file in private_key, or use "
                                                 "a file that holds both (PEM or PKCS#12)"});
    } else {
        c.problems.push_back(
            {key_field(s), "malformed private key " + file.string() + ": " + openssl_reason("PRIVATE KEY")});
    }
}

void read_pkcs12(const certificate_source& s, PKCS12* p12, const std::optional<std::string>& password, credentials& c) {
    c.pkcs12 = true;
    const auto file = s.certificate.string();
    if (!s.private_key.empty()) {
        c.problems.push_back(
            {"private_key", file + " is a PKCS#12 (PFX) file, which holds its key; remove private_key"});
        return;
    }
    const char* pass = password ? password->c_str() : nullptr;
    if (PKCS12_mac_present(p12) == 1) {
        if (password && PKCS12_verify_mac(p12, pass, -1) != 1) {
            ERR_clear_error();
            c.problems.push_back({"certificate_password_file", "wrong password for PKCS#12 file " + file + " (from " +
                                                                   s.password_file.string() + ")"});
            return;
        }
        if (!password && PKCS12_verify_mac(p12, nullptr, 0) != 1 && PKCS12_verify_mac(p12, "", 0) != 1) {
            ERR_clear_error();
            c.problems.push_back({"certificate", "PKCS#12 file " + file +
                                                     " is protected by a password; name a file holding it in "
                                                     "certificate_password_file"});
            return;
        }
    }
    EVP_PKEY* key = nullptr;
    X509* leaf = nullptr;
    STACK_OF(X509)* ca = nullptr;
    if (PKCS12_parse(p12, pass, &key, &leaf, &ca) != 1) {
        const auto why = openssl_reason("");
        c.problems.push_back({"certificate", "cannot read PKCS#12 file " + file + ": " + why +
                                                 (why.find("unsupported") != std::string::npos
                                                      ? " (a legacy algorithm such as RC2: export it again with AES)"
                                                      : "")});
        return;
    }
    c.key.reset(key);
    c.leaf.reset(leaf);
    for (int i = 0; i < sk_X509_num(ca); ++i) c.chain.emplace_back(sk_X509_value(ca, i));
    sk_X509_free(ca);  // the certificates now belong to c.chain
    if (!c.key) {
        c.problems.push_back({"certificate", "PKCS#12 file " + file + " holds no private key"});
        if (!c.leaf && !c.chain.empty()) {  // without a key OpenSSL cannot tell the leaf: take the first
            c.leaf = std::move(c.chain.front());
            c.chain.erase(c.chain.begin());
        }
    } else if (!c.leaf) {
        c.problems.push_back({"certificate", "PKCS#12 file " + file + " holds no certificate for its private key"});
    }
}

// The key belongs to the leaf, and OpenSSL takes chain and key for a server.
void check_together(const certificate_source& s, credentials& c) {
    const auto key_file = s.private_key.empty() ? s.label() : s.private_key.string();
    if (X509_check_private_key(c.leaf.get(), c.key.get()) != 1) {
        ERR_clear_error();
        c.problems.push_back({key_field(s), "private key " + key_file + " does not match certificate " + s.label()});
        return;
    }
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    if (!ctx) {
        c.problems.push_back({cert_field(s), "cannot create a TLS context: " + openssl_reason("")});
        return;
    }
    if (SSL_CTX_use_certificate(ctx.get(), c.leaf.get()) != 1)
        return c.problems.push_back(
            {cert_field(s), "certificate " + s.label() + " is refused: " + openssl_reason("CERTIFICATE")});
    for (std::size_t i = 0; i < c.chain.size(); ++i)
        if (SSL_CTX_add1_chain_cert(ctx.get(), c.chain[i].get()) != 1)
            return c.problems.push_back({cert_field(s), "chain certificate " + std::to_string(i + 2) + " in " +
                                                            s.label() +
                                                            " is refused: " + openssl_reason("CERTIFICATE")});
    if (SSL_CTX_use_PrivateKey(ctx.get(), c.key.get()) != 1)
        c.problems.push_back(
            {key_field(s), "private key " + key_file + " is refused: " + openssl_reason("PRIVATE KEY")});
}

}  // namespace

credentials read_credentials(const certificate_source& s) {
    credentials c;
    ERR_clear_error();
    if (s.store.used()) {
        read_store_credentials(s.store, c);
        if (c.problems.empty() && c.leaf && c.key) check_together(s, c);
        ERR_clear_error();
        return c;
    }
    std::string content;
    if (const auto why = read_file(s.certificate, content); !why.empty()) {
        c.problems.push_back({"certificate", "cannot read " + s.certificate.string() + ": " + why});
        return c;
    }
    std::optional<std::string> password;
    if (!s.password_file.empty()) {
        std::string text;
        if (const auto why = read_file(s.password_file, text); !why.empty()) {
            c.problems.push_back({"certificate_password_file", "cannot read " + s.password_file.string() + ": " + why});
            return c;
        }
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        password = std::move(text);
    }
    if (content.find("-----BEGIN ") == std::string::npos) {
        auto bio = memory_bio(content);
        std::unique_ptr<PKCS12, decltype(&PKCS12_free)> p12(d2i_PKCS12_bio(bio.get(), nullptr), &PKCS12_free);
        ERR_clear_error();
        if (!p12) {
            c.problems.push_back({"certificate", "malformed certificate " + s.certificate.string() +
                                                     ": no PEM CERTIFICATE found, and not a PKCS#12 (PFX) file"});
            return c;
        }
        read_pkcs12(s, p12.get(), password, c);
    } else {
        read_pem_chain(s, content, c);
        if (c.leaf) read_pem_key(s, content, password, c);
    }
    if (c.problems.empty() && c.leaf && c.key) check_together(s, c);
    ERR_clear_error();
    return c;
}

namespace {

// The certificate's digest in upper-case hex, bytes joined by `separator` ('\0': none).
std::string digest_hex(const X509* cert, const EVP_MD* type, char separator) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(cert, type, md, &n) != 1) return {};
    static const char* const hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
        if (i != 0 && separator != '\0') out += separator;
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

}  // namespace

std::string sha256_fingerprint(const X509* cert) {
    auto hex = digest_hex(cert, EVP_sha256(), ':');
    return hex.empty() ? hex : "SHA256:" + hex;
}

std::string sha1_thumbprint(const X509* cert) { return digest_hex(cert, EVP_sha1(), '\0'); }

}  // namespace tlsbroker::config
