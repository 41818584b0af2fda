// The external-key provider's key manager, its registration and make_external_key()
// (config/external_key.hpp). The signature half is external_key_signature.cpp.
#include "config/external_key.hpp"

#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <new>

#include "config/external_key_provider.hpp"

namespace tlsbroker::config {

namespace external {

namespace {

// The parameter make_external_key() passes to the key manager's import: a pointer to this.
constexpr const char* seed_param = "tlsbroker-external-key";
// The seed parameter's value is a key_seed* itself: its bytes are a pointer's.
constexpr std::size_t seed_size = sizeof(void*);
struct key_seed {
    EVP_PKEY* pub;
    std::shared_ptr<key_signer> signer;
};

std::atomic<sign_failure_hook> failure_hook{nullptr};

void* km_new(void*) { return new (std::nothrow) key_data; }
void km_free(void* k) { delete static_cast<key_data*>(k); }

int km_has(const void* kd, int selection) {
    const auto* k = static_cast<const key_data*>(kd);
    if (k == nullptr) return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 && k->pub == nullptr) return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && !k->signer) return 0;
    return 1;
}

int km_match(const void* a, const void* b, int selection) {
    const auto* k1 = static_cast<const key_data*>(a);
    const auto* k2 = static_cast<const key_data*>(b);
    if (k1 == nullptr || k2 == nullptr || k1->pub == nullptr || k2->pub == nullptr) return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0 && EVP_PKEY_eq(k1->pub, k2->pub) != 1) return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) != 0 && EVP_PKEY_parameters_eq(k1->pub, k2->pub) != 1)
        return 0;
    return 1;
}

// An external key (the seed parameter), or another provider's public key (its parameters, as
// its export gives them: a certificate's key being compared with ours). Keys are immutable.
int km_import(void* kd, int selection, const OSSL_PARAM params[], const char* type) {
    auto* k = static_cast<key_data*>(kd);
    if (k == nullptr || k->pub != nullptr) return 0;
    if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, seed_param)) {
        if (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size != seed_size) return 0;
        const auto* seed = *static_cast<key_seed* const*>(p->data);
        if (seed == nullptr || seed->pub == nullptr || EVP_PKEY_up_ref(seed->pub) != 1) return 0;
        k->pub = seed->pub;
        k->signer = seed->signer;
        return 1;
    }
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0) return 0;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, native_query);
    EVP_PKEY* pub = nullptr;
    const bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                    EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return 0;
    k->pub = pub;
    return 1;
}
int rsa_import(void* kd, int selection, const OSSL_PARAM params[]) { return km_import(kd, selection, params, "RSA"); }
int ec_import(void* kd, int selection, const OSSL_PARAM params[]) { return km_import(kd, selection, params, "EC"); }

// The public half only. Asked for the private half too (OpenSSL moving the key to another
// provider to sign there), it refuses, so OpenSSL signs with this provider's signature.
int km_export(void* kd, int selection, OSSL_CALLBACK* cb, void* arg) {
    const auto* k = static_cast<const key_data*>(kd);
    if (k == nullptr || k->pub == nullptr || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) return 0;
    return EVP_PKEY_export(k->pub, selection, cb, arg);
}

const OSSL_PARAM* rsa_types(int selection) {
    static const OSSL_PARAM types[] = {OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
                                       OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0), OSSL_PARAM_END};
    static const OSSL_PARAM none[] = {OSSL_PARAM_END};
    return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0 ? types : none;
}
const OSSL_PARAM* ec_types(int selection) {
    static const OSSL_PARAM types[] = {OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
                                       OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
                                       OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, nullptr, 0),
                                       OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, nullptr, 0), OSSL_PARAM_END};
    static const OSSL_PARAM none[] = {OSSL_PARAM_END};
    return (selection & (OSSL_KEYMGMT_SELECT_PUBLIC_KEY | OSSL_KEYMGMT_SELECT_ALL_PARAMETERS)) != 0 ? types : none;
}

int km_get_params(void* kd, OSSL_PARAM params[]) {
    const auto* k = static_cast<const key_data*>(kd);
    return k != nullptr && k->pub != nullptr && EVP_PKEY_get_params(k->pub, params) == 1 ? 1 : 0;
}
const OSSL_PARAM* km_gettable_params(void*) {
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, nullptr, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, nullptr, 0),
        OSSL_PARAM_END};
    return gettable;
}

void* km_dup(const void* kd, int) {
    const auto* k = static_cast<const key_data*>(kd);
    auto* copy = new (std::nothrow) key_data;
    if (copy == nullptr || k == nullptr || k->pub == nullptr || EVP_PKEY_up_ref(k->pub) != 1) {
        delete copy;
        return nullptr;
    }
    copy->pub = k->pub;
    copy->signer = k->signer;
    return copy;
}

const char* rsa_name(int) { return "RSA"; }
const char* ec_name(int op) { return op == OSSL_OP_SIGNATURE ? "ECDSA" : op == OSSL_OP_KEYEXCH ? "ECDH" : "EC"; }

const OSSL_ALGORITHM keymgmts[] = {
    {"RSA:rsaEncryption", provider_props, rsa_keymgmt_functions, "tlsbroker external RSA key"},
    {"EC:id-ecPublicKey", provider_props, ec_keymgmt_functions, "tlsbroker external EC key"},
    {nullptr, nullptr, nullptr, nullptr}};
const OSSL_ALGORITHM signatures[] = {
    {"RSA:rsaEncryption", provider_props, signature_functions, "tlsbroker external RSA signature"},
    {"ECDSA", provider_props, signature_functions, "tlsbroker external ECDSA signature"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ALGORITHM* query(void*, int op, int* no_store) {
    *no_store = 0;
    return op == OSSL_OP_KEYMGMT ? keymgmts : op == OSSL_OP_SIGNATURE ? signatures : nullptr;
}

int provider_init(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out, void** provctx) {
    static const OSSL_DISPATCH functions[] = {{OSSL_FUNC_PROVIDER_QUERY_OPERATION, f(query)}, {0, nullptr}};
    static int context = 0;
    *out = functions;
    *provctx = &context;
    return 1;
}

// Once per process: the provider is built in and loaded beside the default one (keeping
// OpenSSL's fallback to it), and every other fetch prefers other providers.
bool registered(std::string& problem) {
    // Unloaded at exit, before OpenSSL's own clean-up (registered earlier, so run later).
    struct loaded {
        OSSL_PROVIDER* provider = nullptr;
        ~loaded() { OSSL_PROVIDER_unload(provider); }
    };
    static std::once_flag once;
    static std::string failure;
    std::call_once(once, [] {
        static loaded holder;
        if (OSSL_PROVIDER_add_builtin(nullptr, provider_name, provider_init) != 1 ||
            (holder.provider = OSSL_PROVIDER_try_load(nullptr, provider_name, 1)) == nullptr)
            failure = "OpenSSL does not load the external-key provider";
        else if (EVP_set_default_properties(nullptr, "?provider!=tlsbroker.external") != 1)
            failure = "OpenSSL does not take the external-key provider's default property query";
        ERR_clear_error();
    });
    problem = failure;
    return failure.empty();
}

}  // namespace

const OSSL_DISPATCH rsa_keymgmt_functions[] = {{OSSL_FUNC_KEYMGMT_NEW, f(km_new)},
                                               {OSSL_FUNC_KEYMGMT_FREE, f(km_free)},
                                               {OSSL_FUNC_KEYMGMT_HAS, f(km_has)},
                                               {OSSL_FUNC_KEYMGMT_MATCH, f(km_match)},
                                               {OSSL_FUNC_KEYMGMT_IMPORT, f(rsa_import)},
                                               {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, f(rsa_types)},
                                               {OSSL_FUNC_KEYMGMT_EXPORT, f(km_export)},
                                               {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, f(rsa_types)},
                                               {OSSL_FUNC_KEYMGMT_GET_PARAMS, f(km_get_params)},
                                               {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, f(km_gettable_params)},
                                               {OSSL_FUNC_KEYMGMT_DUP, f(km_dup)},
                                               {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, f(rsa_name)},
                                               {0, nullptr}};
const OSSL_DISPATCH ec_keymgmt_functions[] = {{OSSL_FUNC_KEYMGMT_NEW, f(km_new)},
                                              {OSSL_FUNC_KEYMGMT_FREE, f(km_free)},
                                              {OSSL_FUNC_KEYMGMT_HAS, f(km_has)},
                                              {OSSL_FUNC_KEYMGMT_MATCH, f(km_match)},
                                              {OSSL_FUNC_KEYMGMT_IMPORT, f(ec_import)},
                                              {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, f(ec_types)},
                                              {OSSL_FUNC_KEYMGMT_EXPORT, f(km_export)},
                                              {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, f(ec_types)},
                                              {OSSL_FUNC_KEYMGMT_GET_PARAMS, f(km_get_params)},
                                              {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, f(km_gettable_params)},
                                              {OSSL_FUNC_KEYMGMT_DUP, f(km_dup)},
                                              {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, f(ec_name)},
                                              {0, nullptr}};

void report_failure(const std::string& problem) {
    if (auto hook = failure_hook.load()) hook(problem);
    ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "external key: %s", problem.c_str());
}

}  // namespace external

void set_sign_failure_hook(sign_failure_hook hook) { external::failure_hook.store(hook); }

std::string try_signer(key_signer& signer, bool ec) {
    const unsigned char hash[32] = {};
    sign_request r;
    r.scheme = ec ? sign_scheme::ecdsa : sign_scheme::rsa_pkcs1;
    r.digest = r.mgf1_digest = "SHA256";
    r.hash = hash;
    r.hash_size = sizeof hash;
    std::vector<unsigned char> signature;
    std::string problem;
    try {
        if (!signer.sign(r, signature, problem) && problem.empty()) problem = "the signer gave no reason";
    } catch (const std::exception& e) {
        problem = e.what();
    }
    if (problem.empty() && signature.empty()) problem = "the signer gave an empty signature";
    return problem;
}

bool ecdsa_der_from_raw(const std::vector<unsigned char>& raw, std::vector<unsigned char>& der) {
    if (raw.empty() || raw.size() % 2 != 0) return false;
    const int half = static_cast<int>(raw.size() / 2);
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(raw.data(), half, nullptr);
    BIGNUM* s = BN_bin2bn(raw.data() + half, half, nullptr);
    bool ok = sig != nullptr && r != nullptr && s != nullptr && ECDSA_SIG_set0(sig, r, s) == 1;
    if (!ok) {
        BN_free(r);
        BN_free(s);
    }
    const int n = ok ? i2d_ECDSA_SIG(sig, nullptr) : 0;
    ok = n > 0;
    if (ok) {
        der.resize(static_cast<std::size_t>(n));
        unsigned char* p = der.data();
        ok = i2d_ECDSA_SIG(sig, &p) == n;
    }
    ECDSA_SIG_free(sig);
    return ok;
}

pkey_ptr make_external_key(X509* leaf, std::shared_ptr<key_signer> signer, std::string& problem) {
    EVP_PKEY* pub = leaf != nullptr ? X509_get0_pubkey(leaf) : nullptr;
    if (pub == nullptr || !signer) {
        problem = "no certificate public key or no signer for the external key";
        return nullptr;
    }
    const char* type = EVP_PKEY_is_a(pub, "RSA") ? "RSA" : EVP_PKEY_is_a(pub, "EC") ? "EC" : nullptr;
    if (type == nullptr) {
        const char* name = EVP_PKEY_get0_type_name(pub);
        problem = std::string("an external key must be RSA or EC, not ") + (name != nullptr ? name : "this type");
        return nullptr;
    }
    if (!external::registered(problem)) return nullptr;
    external::key_seed seed{pub, std::move(signer)};
    external::key_seed* seed_ptr = &seed;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(external::seed_param, static_cast<void*>(&seed_ptr), external::seed_size),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, external::provider_props);
    EVP_PKEY* key = nullptr;
    if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1)
        problem = "OpenSSL does not make the external key (" + std::string(type) + ")";
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return pkey_ptr(key);
}

}  // namespace tlsbroker::config
