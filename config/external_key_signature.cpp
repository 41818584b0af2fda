// The external-key provider's signature (config/external_key.hpp): RSA (PKCS#1 v1.5, PSS) and
// ECDSA over a digest OpenSSL computes here; the key's signer makes the signature.
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include <cstring>
#include <exception>
#include <new>
#include <vector>

#include "config/external_key_provider.hpp"

namespace tlsbroker::config::external {

namespace {

// PSS salt lengths as OpenSSL names them (RSA_PSS_SALTLEN_*): the digest's size, the most the
// key allows, and the smaller of the two.
constexpr int salt_digest = -1;
constexpr int salt_max = -2;
constexpr int salt_digest_max = -4;

struct sig_ctx {
    EVP_PKEY* pub = nullptr;
    std::shared_ptr<key_signer> signer;
    bool ec = false;
    bool pss = false;
    int salt = salt_digest;
    EVP_MD* md = nullptr;
    EVP_MD* mgf1 = nullptr;
    EVP_MD_CTX* hashing = nullptr;  // digest_sign_update's running hash

    ~sig_ctx() {
        EVP_PKEY_free(pub);
        EVP_MD_free(md);
        EVP_MD_free(mgf1);
        EVP_MD_CTX_free(hashing);
    }
};

sig_ctx* ctx_of(void* c) { return static_cast<sig_ctx*>(c); }

EVP_MD* fetch_md(const char* name) { return name != nullptr ? EVP_MD_fetch(nullptr, name, native_query) : nullptr; }

void replace_md(EVP_MD*& slot, EVP_MD* md) {
    EVP_MD_free(slot);
    slot = md;
}

// "SHA256" for SHA2-256 and its aliases: the short name of its object.
std::string short_name(const EVP_MD* md) {
    const char* sn = md != nullptr ? OBJ_nid2sn(EVP_MD_get_type(md)) : nullptr;
    return sn != nullptr ? sn : "";
}

int set_pad_mode(sig_ctx& c, const OSSL_PARAM& p) {
    int mode = 0;
    if (p.data_type == OSSL_PARAM_UTF8_STRING) {
        const char* s = static_cast<const char*>(p.data);
        mode = std::strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0       ? RSA_PKCS1_PSS_PADDING
               : std::strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ? RSA_PKCS1_PADDING
                                                                     : 0;
    } else if (OSSL_PARAM_get_int(&p, &mode) != 1) {
        return 0;
    }
    if (c.ec || (mode != RSA_PKCS1_PSS_PADDING && mode != RSA_PKCS1_PADDING)) return 0;
    c.pss = mode == RSA_PKCS1_PSS_PADDING;
    return 1;
}

int set_salt(sig_ctx& c, const OSSL_PARAM& p) {
    if (p.data_type != OSSL_PARAM_UTF8_STRING) return OSSL_PARAM_get_int(&p, &c.salt);
    const char* s = static_cast<const char*>(p.data);
    if (std::strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0)
        c.salt = salt_digest;
    else if (std::strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0 ||
             std::strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0)
        c.salt = salt_max;  // "auto" means the most when signing
    else if (std::strcmp(s, "auto-digestmax") == 0)
        c.salt = salt_digest_max;
    else {
        char* end = nullptr;
        const long n = std::strtol(s, &end, 10);
        if (end == s || *end != '\0' || n < 0 || n > 1024) return 0;
        c.salt = static_cast<int>(n);
    }
    return 1;
}

int set_ctx_params(void* vc, const OSSL_PARAM params[]) {
    auto* c = ctx_of(vc);
    if (c == nullptr) return 0;
    if (params == nullptr) return 1;
    const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST);
    if (p != nullptr) {
        const char* name = nullptr;
        EVP_MD* md = OSSL_PARAM_get_utf8_string_ptr(p, &name) == 1 ? fetch_md(name) : nullptr;
        if (md == nullptr) return 0;
        replace_md(c->md, md);
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != nullptr && set_pad_mode(*c, *p) != 1)
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != nullptr && set_salt(*c, *p) != 1)
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != nullptr) {
        const char* name = nullptr;
        EVP_MD* md = OSSL_PARAM_get_utf8_string_ptr(p, &name) == 1 ? fetch_md(name) : nullptr;
        if (md == nullptr) return 0;
        replace_md(c->mgf1, md);
    }
    return 1;
}

const OSSL_PARAM* settable_ctx_params(void*, void*) {
    static const OSSL_PARAM settable[] = {OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
                                          OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr, 0),
                                          OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, nullptr, 0),
                                          OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, nullptr, 0),
                                          OSSL_PARAM_END};
    return settable;
}
int get_ctx_params(void*, OSSL_PARAM*) { return 1; }
const OSSL_PARAM* gettable_ctx_params(void*, void*) {
    static const OSSL_PARAM none[] = {OSSL_PARAM_END};
    return none;
}

void* newctx(void*, const char*) { return new (std::nothrow) sig_ctx; }
void freectx(void* c) { delete ctx_of(c); }

void* dupctx(void* vc) {
    const auto* c = ctx_of(vc);
    auto* d = new (std::nothrow) sig_ctx;
    if (d == nullptr) return nullptr;
    d->signer = c->signer;
    d->ec = c->ec;
    d->pss = c->pss;
    d->salt = c->salt;
    bool ok = true;
    if (c->pub != nullptr) ok = EVP_PKEY_up_ref(c->pub) == 1 && (d->pub = c->pub) != nullptr;
    if (ok && c->md != nullptr) ok = EVP_MD_up_ref(c->md) == 1 && (d->md = c->md) != nullptr;
    if (ok && c->mgf1 != nullptr) ok = EVP_MD_up_ref(c->mgf1) == 1 && (d->mgf1 = c->mgf1) != nullptr;
    if (ok && c->hashing != nullptr)
        ok = (d->hashing = EVP_MD_CTX_new()) != nullptr && EVP_MD_CTX_copy_ex(d->hashing, c->hashing) == 1;
    if (!ok) {
        delete d;
        return nullptr;
    }
    return d;
}

// Takes the key (its public half and signer) and resets the scheme to the key's default.
int init_key(sig_ctx& c, void* provkey, const OSSL_PARAM params[]) {
    const auto* k = static_cast<const key_data*>(provkey);
    if (k == nullptr || k->pub == nullptr || !k->signer || EVP_PKEY_up_ref(k->pub) != 1) return 0;
    EVP_PKEY_free(c.pub);
    c.pub = k->pub;
    c.signer = k->signer;
    c.ec = EVP_PKEY_is_a(c.pub, "EC") == 1;
    c.pss = false;
    c.salt = salt_digest;
    return set_ctx_params(&c, params);
}

int sign_init(void* c, void* provkey, const OSSL_PARAM params[]) {
    return c != nullptr ? init_key(*ctx_of(c), provkey, params) : 0;
}

int digest_sign_init(void* vc, const char* mdname, void* provkey, const OSSL_PARAM params[]) {
    auto* c = ctx_of(vc);
    if (c == nullptr || init_key(*c, provkey, params) != 1) return 0;
    char fallback[64] = "";
    if (mdname == nullptr || *mdname == '\0') {
        if (EVP_PKEY_get_default_digest_name(c->pub, fallback, sizeof fallback) <= 0) return 0;
        mdname = fallback;
    }
    EVP_MD* md = fetch_md(mdname);
    if (md == nullptr) return 0;
    replace_md(c->md, md);
    if (c->hashing == nullptr && (c->hashing = EVP_MD_CTX_new()) == nullptr) return 0;
    return EVP_DigestInit_ex(c->hashing, c->md, nullptr);
}

// The salt length in bytes for a key of `bits` and a hash of `hash_size` bytes.
int salt_bytes(int salt, int bits, int hash_size) {
    const int most = (bits - 1 + 7) / 8 - hash_size - 2;
    if (salt == salt_digest) return hash_size;
    if (salt == salt_digest_max) return hash_size < most ? hash_size : most;
    if (salt < 0) return most;
    return salt;
}

// An MD without a name set for a raw EVP_PKEY_sign: the hash is told by its size.
const char* digest_for_size(std::size_t n) {
    return n == 20 ? "SHA1" : n == 32 ? "SHA256" : n == 48 ? "SHA384" : n == 64 ? "SHA512" : nullptr;
}

int sign(void* vc, unsigned char* sig, std::size_t* siglen, std::size_t sigsize, const unsigned char* tbs,
         std::size_t tbslen) {
    auto* c = ctx_of(vc);
    if (c == nullptr || c->pub == nullptr || !c->signer) return 0;
    const int size = EVP_PKEY_get_size(c->pub);
    if (sig == nullptr) {
        *siglen = static_cast<std::size_t>(size);
        return 1;
    }
    std::string problem;
    try {
        sign_request r;
        r.scheme = c->ec ? sign_scheme::ecdsa : c->pss ? sign_scheme::rsa_pss : sign_scheme::rsa_pkcs1;
        r.digest = c->md != nullptr ? short_name(c->md) : digest_for_size(tbslen) ? digest_for_size(tbslen) : "";
        r.mgf1_digest = c->mgf1 != nullptr ? short_name(c->mgf1) : r.digest;
        r.salt_length = r.scheme == sign_scheme::rsa_pss
                            ? salt_bytes(c->salt, EVP_PKEY_get_bits(c->pub), static_cast<int>(tbslen))
                            : 0;
        r.hash = tbs;
        r.hash_size = tbslen;
        std::vector<unsigned char> out;
        if (r.digest.empty())
            problem = "no digest for a " + std::to_string(tbslen) + "-byte hash";
        else if (r.salt_length < 0)
            problem = "the key is too small for a PSS signature with " + r.digest;
        else if (!c->signer->sign(r, out, problem) && problem.empty())
            problem = "the signer gave no reason";
        else if (problem.empty() && (out.empty() || out.size() > sigsize))
            problem = "the signer's signature has " + std::to_string(out.size()) + " bytes, at most " +
                      std::to_string(sigsize) + " fit";
        if (problem.empty()) {
            std::memcpy(sig, out.data(), out.size());
            *siglen = out.size();
            return 1;
        }
    } catch (const std::exception& e) {
        problem = std::string("the signer failed: ") + e.what();
    } catch (...) {
        problem = "the signer failed";
    }
    report_failure(problem);
    return 0;
}

int digest_sign_update(void* vc, const unsigned char* data, std::size_t n) {
    auto* c = ctx_of(vc);
    return c != nullptr && c->hashing != nullptr ? EVP_DigestUpdate(c->hashing, data, n) : 0;
}

int digest_sign_final(void* vc, unsigned char* sig, std::size_t* siglen, std::size_t sigsize) {
    auto* c = ctx_of(vc);
    if (c == nullptr || c->hashing == nullptr) return 0;
    if (sig == nullptr) return sign(vc, nullptr, siglen, sigsize, nullptr, 0);
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c->hashing, hash, &n) != 1) return 0;
    return sign(vc, sig, siglen, sigsize, hash, n);
}

int digest_sign(void* vc, unsigned char* sig, std::size_t* siglen, std::size_t sigsize, const unsigned char* tbs,
                std::size_t tbslen) {
    auto* c = ctx_of(vc);
    if (c == nullptr || c->md == nullptr) return 0;
    if (sig == nullptr) return sign(vc, nullptr, siglen, sigsize, nullptr, 0);
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(tbs, tbslen, hash, &n, c->md, nullptr) != 1) return 0;
    return sign(vc, sig, siglen, sigsize, hash, n);
}

}  // namespace

const OSSL_DISPATCH signature_functions[] = {{OSSL_FUNC_SIGNATURE_NEWCTX, f(newctx)},
                                             {OSSL_FUNC_SIGNATURE_FREECTX, f(freectx)},
                                             {OSSL_FUNC_SIGNATURE_DUPCTX, f(dupctx)},
                                             {OSSL_FUNC_SIGNATURE_SIGN_INIT, f(sign_init)},
                                             {OSSL_FUNC_SIGNATURE_SIGN, f(sign)},
                                             {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, f(digest_sign_init)},
                                             {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, f(digest_sign_update)},
                                             {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, f(digest_sign_final)},
                                             {OSSL_FUNC_SIGNATURE_DIGEST_SIGN, f(digest_sign)},
                                             {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, f(set_ctx_params)},
                                             {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, f(settable_ctx_params)},
                                             {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, f(get_ctx_params)},
                                             {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, f(gettable_ctx_params)},
                                             {0, nullptr}};

}  // namespace tlsbroker::config::external
