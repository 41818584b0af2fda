#include "support/test_certs.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace tlsbroker::test {

namespace {

EVP_PKEY* new_key(key_type kt) {
    EVP_PKEY* k = kt == key_type::rsa2048 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                                          : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (k == nullptr) throw std::runtime_error("key generation failed");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

X509* new_cert(EVP_PKEY* key, std::string_view cn, std::chrono::seconds valid_for = default_validity) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7F;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    const long after = static_cast<long>(valid_for.count());
    X509_gmtime_adj(X509_getm_notBefore(x), std::min(-3600L, after - 3600));
    X509_gmtime_adj(X509_getm_notAfter(x), after);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(std::string(cn).c_str()), -1, -1, 0);
    return x;
}

void save(X509* cert, EVP_PKEY* key, const std::filesystem::path& cert_path, const std::filesystem::path& key_path) {
    struct closer {
        void operator()(FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<FILE, closer> c(std::fopen(cert_path.c_str(), "w"));
    if (!c || PEM_write_X509(c.get(), cert) != 1) throw std::runtime_error("cannot write " + cert_path.string());
    std::unique_ptr<FILE, closer> k(std::fopen(key_path.c_str(), "w"));
    if (!k || PEM_write_PrivateKey(k.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error("cannot write " + key_path.string());
    k.reset();
    std::filesystem::permissions(key_path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

void sign(X509* x, EVP_PKEY* key) {
    if (X509_sign(x, key, EVP_sha256()) <= 0) throw std::runtime_error("certificate signing failed");
}

template <class T>
T* read_pem(const std::filesystem::path& p, T* (*reader)(FILE*, T**, pem_password_cb*, void*)) {
    FILE* f = std::fopen(p.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("cannot read " + p.string());
    T* v = reader(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (v == nullptr) throw std::runtime_error("bad PEM in " + p.string());
    return v;
}

}  // namespace

std::filesystem::path make_temp_dir(std::string_view tag) {
    static std::atomic<int> counter{0};
    const auto base = std::filesystem::temp_directory_path() / "tlsbroker-tests";
    const auto dir = base / (std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

cert_files make_self_signed(const std::filesystem::path& dir, std::string_view name, std::string_view cn, key_type kt,
                            std::chrono::seconds valid_for) {
    EVP_PKEY* key = new_key(kt);
    X509* x = new_cert(key, cn, valid_for);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    add_ext(x, x, NID_subject_alt_name, "DNS:" + std::string(cn) + ",DNS:localhost,IP:127.0.0.1,IP:::1");
    add_ext(x, x, NID_basic_constraints, "CA:FALSE");
    sign(x, key);
    cert_files f{dir / (std::string(name) + ".crt"), dir / (std::string(name) + ".key")};
    save(x, key, f.cert, f.key);
    X509_free(x);
    EVP_PKEY_free(key);
    return f;
}

ca_files make_ca(const std::filesystem::path& dir, std::string_view name) {
    EVP_PKEY* key = new_key(key_type::ecdsa_p256);
    X509* x = new_cert(key, std::string(name) + " test CA");
    X509_set_issuer_name(x, X509_get_subject_name(x));
    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(x, x, NID_subject_key_identifier, "hash");
    sign(x, key);
    ca_files f{dir / (std::string(name) + ".crt"), dir / (std::string(name) + ".key")};
    save(x, key, f.cert, f.key);
    X509_free(x);
    EVP_PKEY_free(key);
    return f;
}

cert_files make_leaf(const ca_files& ca, const std::filesystem::path& dir, std::string_view name, std::string_view cn,
                     bool client, std::vector<std::string> dns_sans) {
    X509* ca_cert = read_pem<X509>(ca.cert, &PEM_read_X509);
    EVP_PKEY* ca_key = read_pem<EVP_PKEY>(ca.key, &PEM_read_PrivateKey);
    EVP_PKEY* key = new_key(key_type::ecdsa_p256);
    X509* x = new_cert(key, cn);
    X509_set_issuer_name(x, X509_get_subject_name(ca_cert));
    std::string san = client ? "email:" + std::string(cn) + "@clients.test" : "DNS:localhost,IP:127.0.0.1";
    for (const auto& d : dns_sans) san += ",DNS:" + d;
    add_ext(x, ca_cert, NID_subject_alt_name, san);
    add_ext(x, ca_cert, NID_basic_constraints, "CA:FALSE");
    add_ext(x, ca_cert, NID_ext_key_usage, client ? "clientAuth" : "serverAuth");
    add_ext(x, ca_cert, NID_authority_key_identifier, "keyid");
    sign(x, ca_key);
    cert_files f{dir / (std::string(name) + ".crt"), dir / (std::string(name) + ".key")};
    save(x, key, f.cert, f.key);
    X509_free(x);
    X509_free(ca_cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return f;
}

std::string serial_hex(X509* cert) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
    char* hex = BN_bn2hex(bn);
    std::string out = hex != nullptr ? hex : "";
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

std::string serial_hex(const std::filesystem::path& cert_file) {
    X509* x = read_pem<X509>(cert_file, &PEM_read_X509);
    auto out = serial_hex(x);
    X509_free(x);
    return out;
}

void write_file(const std::filesystem::path& p, std::string_view text) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string read_file_text(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

void replace_file(const std::filesystem::path& target, std::string_view content) {
    const auto tmp = target.string() + ".tmp";
    write_file(tmp, content);
    std::filesystem::rename(tmp, target);
}

void make_not_yet_valid(const cert_files& f, std::chrono::seconds in) {
    X509* x = read_pem<X509>(f.cert, &PEM_read_X509);
    EVP_PKEY* key = read_pem<EVP_PKEY>(f.key, &PEM_read_PrivateKey);
    X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(in.count()));
    sign(x, key);
    save(x, key, f.cert, f.key);
    X509_free(x);
    EVP_PKEY_free(key);
}

void make_pfx(const cert_files& leaf, const std::filesystem::path& out, std::string_view password,
              const std::vector<std::filesystem::path>& chain, bool with_key) {
    X509* cert = read_pem<X509>(leaf.cert, &PEM_read_X509);
    EVP_PKEY* key = with_key ? read_pem<EVP_PKEY>(leaf.key, &PEM_read_PrivateKey) : nullptr;
    STACK_OF(X509)* ca = sk_X509_new_null();
    for (const auto& c : chain) sk_X509_push(ca, read_pem<X509>(c, &PEM_read_X509));
    const std::string pass(password);
    PKCS12* p12 = PKCS12_create(pass.empty() ? nullptr : pass.c_str(), "test", key, cert, ca, 0, 0, 0, 0, 0);
    sk_X509_pop_free(ca, X509_free);
    X509_free(cert);
    EVP_PKEY_free(key);
    if (p12 == nullptr) throw std::runtime_error("PKCS12_create failed");
    FILE* f = std::fopen(out.c_str(), "wb");
    const bool ok = f != nullptr && i2d_PKCS12_fp(f, p12) == 1;
    if (f != nullptr) std::fclose(f);
    PKCS12_free(p12);
    if (!ok) throw std::runtime_error("cannot write " + out.string());
    std::filesystem::permissions(out, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

void make_combined_pem(const cert_files& leaf, const std::filesystem::path& out,
                       const std::vector<std::filesystem::path>& chain) {
    std::ostringstream all;
    for (const auto& p : std::vector<std::filesystem::path>{leaf.key, leaf.cert}) all << std::ifstream(p).rdbuf();
    for (const auto& p : chain) all << std::ifstream(p).rdbuf();
    write_file(out, all.str());
    std::filesystem::permissions(out, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace tlsbroker::test
