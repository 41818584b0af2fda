#include "config/tls_checks.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "config/json_reader.hpp"
#include "config/openssl_errors.hpp"

namespace tlsbroker::config {

namespace {

using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// Never prompts: an encrypted key fails instead of waiting on a terminal.
int refuse_password(char*, int, int, void* asked) {
    *static_cast<bool*>(asked) = true;
    return -1;
}

// Loads a file into a memory BIO; `problem` is set when it cannot be read.
bio_ptr open_pem(const std::filesystem::path& file, std::string& content, std::string& problem) {
    if (const auto why = read_file(file, content); !why.empty()) {
        problem = "cannot read " + file.string() + ": " + why;
        return {nullptr, &BIO_free};
    }
    return {BIO_new_mem_buf(content.data(), static_cast<int>(content.size())), &BIO_free};
}

// The chain in `file`, leaf first; empty with `problem` set when it is unusable.
std::vector<x509_ptr> read_chain(const std::filesystem::path& file, std::string& problem) {
    std::vector<x509_ptr> chain;
    std::string content;
    ERR_clear_error();
    auto bio = open_pem(file, content, problem);
    if (!bio) return chain;
    while (true) {
        bool asked = false;
        X509* x = PEM_read_bio_X509(bio.get(), nullptr, &refuse_password, &asked);
        if (x == nullptr) {
            if (!chain.empty() && pem_no_start_line()) {
                ERR_clear_error();
                break;
            }
            problem = "malformed certificate " + file.string() + " (block " + std::to_string(chain.size() + 1) +
                      "): " + openssl_reason("CERTIFICATE");
            chain.clear();
            break;
        }
        chain.emplace_back(x);
    }
    return chain;
}

// The list split at OpenSSL's separators (':', ',' and spaces).
std::vector<std::string> tokens(const std::string& list) {
    std::vector<std::string> out;
    std::string cur;
    for (const char c : list) {
        if (c == ':' || c == ',' || c == ' ') {
            if (!cur.empty()) out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

ctx_ptr scratch_ctx() { return {SSL_CTX_new(TLS_server_method()), &SSL_CTX_free}; }

}  // namespace

namespace {

std::string printed(const ASN1_TIME* t) {
    std::string when = "an unreadable date";
    if (bio_ptr out(BIO_new(BIO_s_mem()), &BIO_free); out && ASN1_TIME_print(out.get(), t) == 1) {
        char* data = nullptr;
        const long n = BIO_get_mem_data(out.get(), &data);
        when.assign(data, static_cast<std::size_t>(n));
    }
    return when;
}

}  // namespace

std::string validity_problem(const X509* leaf, const std::filesystem::path& file) {
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
        return "certificate " + file.string() + " expired on " + printed(X509_get0_notAfter(leaf));
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0)
        return "certificate " + file.string() + " is not valid before " + printed(X509_get0_notBefore(leaf));
    return {};
}

void warn_certificate_validity(const broker_config& cfg, std::vector<config_error>& warnings) {
    const auto check = [&](const std::string& at, const certificate_source& source) {
        const auto c = read_credentials(source);
        if (!c.leaf) return;
        if (auto p = validity_problem(c.leaf.get(), source.label()); !p.empty())
            warnings.push_back({at + (source.store.used() ? "/certificate_store" : "/certificate"),
                                p + "; the listener starts and serves it, marked degraded"});
    };
    for (std::size_t i = 0; i < cfg.listeners.size(); ++i) {
        const auto& t = cfg.listeners[i].tls;
        const auto at = "/listeners/" + std::to_string(i) + "/tls";
        check(at, t.source());
        for (std::size_t k = 0; k < t.sni.size(); ++k) check(at + "/sni/" + std::to_string(k), t.sni[k].source());
    }
}

std::vector<field_problem> check_certificate_pair(const certificate_source& source) {
    return read_credentials(source).problems;
}

std::vector<config_error> check_tls_files(const broker_config& cfg) {
    std::vector<config_error> problems;
    const auto pair = [&](const std::string& at, const certificate_source& source) {
        for (auto& p : check_certificate_pair(source)) problems.push_back({at + "/" + p.field, std::move(p.message)});
    };
    for (std::size_t i = 0; i < cfg.listeners.size(); ++i) {
        const auto& t = cfg.listeners[i].tls;
        const auto at = "/listeners/" + std::to_string(i) + "/tls";
        pair(at, t.source());
        for (std::size_t k = 0; k < t.sni.size(); ++k) pair(at + "/sni/" + std::to_string(k), t.sni[k].source());
        if (!t.client_ca.empty())
            if (auto p = check_ca_file(t.client_ca); !p.empty()) problems.push_back({at + "/client_ca", std::move(p)});
        if (!t.crl.empty())
            if (auto p = check_crl_file(t.crl); !p.empty()) problems.push_back({at + "/crl", std::move(p)});
    }
    return problems;
}

std::string check_ca_file(const std::filesystem::path& file) {
    std::string problem;
    read_chain(file, problem);
    return problem.empty() ? problem : "CA file: " + problem;
}

std::string check_crl_file(const std::filesystem::path& file) {
    std::string content, problem;
    ERR_clear_error();
    auto bio = open_pem(file, content, problem);
    if (!bio) return problem;
    X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
    if (crl == nullptr) return "malformed CRL " + file.string() + ": " + openssl_reason("X509 CRL");
    X509_CRL_free(crl);
    return {};
}

std::string check_ciphers(const std::string& list) {
    auto ctx = scratch_ctx();
    if (!ctx) return "cannot create a TLS context: " + openssl_reason("");
    for (const auto& t : tokens(list)) {
        // '!', '-', '+' and '@' remove, reorder or tune; only names and groups must match.
        if (t[0] == '!' || t[0] == '-' || t[0] == '+' || t[0] == '@') continue;
        auto probe = scratch_ctx();
        if (SSL_CTX_set_cipher_list(probe.get(), t.c_str()) != 1) {
            ERR_clear_error();
            return "\"" + t + "\" matches no TLS 1.2 cipher";
        }
    }
    if (SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != 1) {
        ERR_clear_error();
        return "no usable cipher in \"" + list + "\"";
    }
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
    auto ctx = scratch_ctx();
    if (!ctx) return "cannot create a TLS context: " + openssl_reason("");
    for (const auto& t : tokens(list)) {
        if (SSL_CTX_set_ciphersuites(ctx.get(), t.c_str()) != 1) {
            ERR_clear_error();
            return "unknown TLS 1.3 ciphersuite \"" + t + "\"";
        }
    }
    if (SSL_CTX_set_ciphersuites(ctx.get(), list.c_str()) != 1) {
        ERR_clear_error();
        return "invalid TLS 1.3 ciphersuites \"" + list + "\"";
    }
    return {};
}

std::string check_groups(const std::string& list) {
    auto ctx = scratch_ctx();
    if (!ctx) return "cannot create a TLS context: " + openssl_reason("");
    // OpenSSL 3.5 also takes '/' between preference tuples and '*' (send a key share) or '?'
    // (skip when unknown) before a name; each element alone must still be accepted.
    std::string names = list;
    std::replace(names.begin(), names.end(), '/', ':');
    const auto each = tokens(names);
    if (each.empty()) return "names no group";
    for (const auto& t : each) {
        if (SSL_CTX_set1_groups_list(ctx.get(), t.c_str()) != 1) {
            ERR_clear_error();
            return "unknown group \"" + t + "\" (not known to " + OpenSSL_version(OPENSSL_VERSION) + ")";
        }
    }
    if (SSL_CTX_set1_groups_list(ctx.get(), list.c_str()) != 1) {
        ERR_clear_error();
        return "invalid group list \"" + list + "\" (names are separated by ':')";
    }
    return {};
}

}  // namespace tlsbroker::config
