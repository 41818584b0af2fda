#include "service/default_config.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace tlsbroker::service {

namespace {

// A private key file: created 0600 on POSIX (never group- or world-readable, not even for a
// moment); on Windows its ACL is the installer's (secure_install.cpp).
FILE* open_key_file(const std::filesystem::path& p) {
#ifdef _WIN32
    return std::fopen(p.string().c_str(), "w");
#else
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return nullptr;
    if (::fchmod(fd, 0600) != 0) {  // an existing file keeps its mode through O_CREAT
        ::close(fd);
        return nullptr;
    }
    FILE* f = ::fdopen(fd, "w");
    if (f == nullptr) ::close(fd);
    return f;
#endif
}

}  // namespace

std::string write_self_signed(const std::filesystem::path& cert_path, const std::filesystem::path& key_path) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                            &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
    if (!key || !x) return "cannot generate a key";
    X509_set_version(x.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7F;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), 365L * 24 * 3600);
    X509_set_pubkey(x.get(), key.get());
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tlsbroker"), -1, -1,
                               0);
    X509_set_issuer_name(x.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
    if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1")) {
        X509_add_ext(x.get(), ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(x.get(), key.get(), EVP_sha256());
    FILE* c = std::fopen(cert_path.string().c_str(), "w");
    if (c == nullptr) return "cannot write " + cert_path.string();
    PEM_write_X509(c, x.get());
    std::fclose(c);
    FILE* k = open_key_file(key_path);
    if (k == nullptr) return "cannot write " + key_path.string();
    PEM_write_PrivateKey(k, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(k);
    return {};
}

bool is_generated_certificate(const std::filesystem::path& cert_path) {
    FILE* c = std::fopen(cert_path.string().c_str(), "r");
    if (c == nullptr) return false;
    std::unique_ptr<X509, decltype(&X509_free)> x(PEM_read_X509(c, nullptr, nullptr, nullptr), &X509_free);
    std::fclose(c);
    if (!x) return false;
    char cn[64] = {0};
    X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof cn);
    return std::string(cn) == "tlsbroker" &&
           X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())) == 0;
}

std::string write_default_config(const std::filesystem::path& dir, const starter_values& values) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto file = dir / "tlsbroker.json";
    if (std::filesystem::exists(file)) return {};
    const auto& store = values.certificate_store;
    nlohmann::ordered_json tls = {{"certificate", "server.crt"}, {"private_key", "server.key"}};
    if (store.used()) {
        nlohmann::ordered_json ref = {{"location", store.location}, {"store", store.store}};
        if (!store.thumbprint.empty())
            ref["thumbprint"] = store.thumbprint;
        else
            ref["subject"] = store.subject;
        tls = {{"certificate_store", ref}};
    } else if (!std::filesystem::exists(dir / "server.crt")) {
        if (auto p = write_self_signed(dir / "server.crt", dir / "server.key"); !p.empty()) return p;
    }
    const nlohmann::ordered_json cfg = {{"log", {{"level", "info"}, {"file", "tlsbroker.log"}}},
                                        {"status", {{"listen", "127.0.0.1:" + values.status_port}}},
                                        {"listeners",
                                         {{{"name", "site"},
                                           {"listen", "0.0.0.0:" + values.listen_port},
                                           {"tls", tls},
                                           {"backend", {{"address", values.backend}}}}}}};
    std::ofstream out(file);
    out << cfg.dump(2) << '\n';
    if (!out) return "cannot write " + file.string();
    return {};
}

}  // namespace tlsbroker::service
