// The lookup in the Windows certificate store (config/cert_store.hpp): every certificate of the
// store becomes a candidate, choose_certificate() picks one, and its chain and key are handed to
// OpenSSL. An exportable key is exported (CAPI PRIVATEKEYBLOB, or CNG PKCS#8: signing in
// OpenSSL is faster); one that is not stays in its provider and signs there through CNG
// (config/external_key.hpp, ncrypt_signer.hpp; a CAPI key opened again through CNG).
// What Wine 8 supports of this is written down in service/README.md.
#include <windows.h>

// wincrypt.h and ncrypt.h need windows.h first.
#include <ncrypt.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <wincrypt.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "config/cert_store.hpp"
#include "config/external_key.hpp"
#include "config/ncrypt_signer.hpp"
#include "config/utf16_windows.hpp"

namespace tlsbroker::config {

namespace {

std::string code(unsigned long e) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08lX", e);
    return buf;
}

struct store_closer {
    void operator()(void* s) const { CertCloseStore(s, 0); }
};
struct cert_freer {
    void operator()(const CERT_CONTEXT* c) const { CertFreeCertificateContext(c); }
};
using cert_ptr = std::unique_ptr<const CERT_CONTEXT, cert_freer>;

bool has_key(PCCERT_CONTEXT c) {
    DWORD n = 0;
    return CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &n) ||
           CertGetCertificateContextProperty(c, CERT_KEY_CONTEXT_PROP_ID, nullptr, &n) ||
           CertGetCertificateContextProperty(c, CERT_NCRYPT_KEY_HANDLE_PROP_ID, nullptr, &n);
}

x509_ptr to_x509(PCCERT_CONTEXT c) {
    const unsigned char* p = c->pbCertEncoded;
    return x509_ptr(d2i_X509(nullptr, &p, static_cast<long>(c->cbCertEncoded)));
}

// The intermediates up to (not including) a self-signed root, as Windows builds the chain from
// its stores and `store`. A chain that cannot be built leaves the leaf alone.
std::vector<x509_ptr> chain_of(PCCERT_CONTEXT leaf, HCERTSTORE store, bool machine) {
    CERT_CHAIN_PARA para{};
    para.cbSize = sizeof para;
    PCCERT_CHAIN_CONTEXT chain = nullptr;
    std::vector<x509_ptr> out;
    if (!CertGetCertificateChain(machine ? HCCE_LOCAL_MACHINE : HCCE_CURRENT_USER, leaf, nullptr, store, &para, 0,
                                 nullptr, &chain))
        return out;
    if (chain->cChain > 0) {
        const auto* simple = chain->rgpChain[0];
        for (DWORD i = 1; i < simple->cElement; ++i) {
            const auto* c = simple->rgpElement[i]->pCertContext;
            if (CertCompareCertificateName(X509_ASN_ENCODING, &c->pCertInfo->Subject, &c->pCertInfo->Issuer)) break;
            if (auto x = to_x509(c)) out.push_back(std::move(x));
        }
    }
    CertFreeCertificateChain(chain);
    return out;
}

std::string not_exportable(const std::string& what, unsigned long e) { return what + " (" + code(e) + ")"; }

// The key stays where it is and signs through CNG; "" or the problem, after the export's.
std::string keep_in_place(X509* leaf, NCRYPT_KEY_HANDLE k, NCRYPT_PROV_HANDLE prov, const std::string& refused,
                          pkey_ptr& key) {
    auto signer = make_ncrypt_signer(k, prov);  // owns the handles from here on
    if (leaf == nullptr) return refused;
    const bool ec = EVP_PKEY_is_a(X509_get0_pubkey(leaf), "EC") == 1;
    std::string problem = try_signer(*signer, ec);
    if (problem.empty()) key = make_external_key(leaf, std::move(signer), problem);
    if (problem.empty()) return {};
    return refused + ", and signing with it in place fails: " + problem +
           "; the service's account needs use of the key (service/README.md, \"The Windows certificate store\")";
}

// The CNG key as PKCS#8; "" or the problem.
std::string export_cng(NCRYPT_KEY_HANDLE k, pkey_ptr& key) {
    DWORD n = 0;
    auto s = NCryptExportKey(k, 0, NCRYPT_PKCS8_PRIVATE_KEY_BLOB, nullptr, nullptr, 0, &n, NCRYPT_SILENT_FLAG);
    std::vector<unsigned char> blob(n);
    if (s == ERROR_SUCCESS)
        s = NCryptExportKey(k, 0, NCRYPT_PKCS8_PRIVATE_KEY_BLOB, nullptr, blob.data(), n, &n, NCRYPT_SILENT_FLAG);
    if (s != ERROR_SUCCESS) return not_exportable("its CNG private key cannot be exported", s);
    const unsigned char* p = blob.data();
    PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(n));
    if (info != nullptr) key.reset(EVP_PKCS82PKEY(info));
    PKCS8_PRIV_KEY_INFO_free(info);
    SecureZeroMemory(blob.data(), blob.size());
    return key ? std::string() : "OpenSSL cannot read its exported CNG private key";
}

// The CAPI key as a PRIVATEKEYBLOB; "" or the problem.
std::string export_capi(HCRYPTPROV prov, DWORD spec, pkey_ptr& key) {
    HCRYPTKEY k = 0;
    if (!CryptGetUserKey(prov, spec == AT_SIGNATURE ? AT_SIGNATURE : AT_KEYEXCHANGE, &k))
        return "cannot open its private key (CryptGetUserKey " + code(GetLastError()) + ")";
    DWORD n = 0;
    std::vector<unsigned char> blob;
    BOOL ok = CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, nullptr, &n);
    if (ok) {
        blob.resize(n);
        ok = CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, blob.data(), &n);
    }
    const auto e = GetLastError();
    CryptDestroyKey(k);
    if (!ok) return not_exportable("its private key cannot be exported", e);
    const unsigned char* p = blob.data();
    key.reset(b2i_PrivateKey(&p, static_cast<long>(n)));
    SecureZeroMemory(blob.data(), blob.size());
    return key ? std::string() : "OpenSSL cannot read its exported private key";
}

// The certificate's key opened (again) through CNG, from its key provider information: a CNG
// key in its key storage provider by name; a CAPI key through the software key storage
// provider, which opens the Microsoft CSPs' keys by container and key spec.
// (NCryptTranslateHandle would do the latter from the handle, but Wine 8 does not implement it
// and aborts the process: service/README.md.)
std::string open_in_cng(PCCERT_CONTEXT c, DWORD spec, NCRYPT_PROV_HANDLE& prov, NCRYPT_KEY_HANDLE& k) {
    DWORD n = 0;
    std::vector<unsigned char> buf;
    BOOL ok = CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &n);
    if (ok) {
        buf.resize(n);
        ok = CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, buf.data(), &n);
    }
    if (!ok) return "no key provider information: " + code(GetLastError());
    const auto* info = reinterpret_cast<const CRYPT_KEY_PROV_INFO*>(buf.data());
    const DWORD flags =
        NCRYPT_SILENT_FLAG | ((info->dwFlags & CRYPT_MACHINE_KEYSET) != 0 ? NCRYPT_MACHINE_KEY_FLAG : 0);
    const bool cng = info->dwProvType == 0 && info->pwszProvName != nullptr;
    auto s = NCryptOpenStorageProvider(&prov, cng ? info->pwszProvName : MS_KEY_STORAGE_PROVIDER, 0);
    if (s != ERROR_SUCCESS) return "NCryptOpenStorageProvider " + code(s);
    s = NCryptOpenKey(prov, &k, info->pwszContainerName, cng ? 0 : spec, flags);
    if (s == ERROR_SUCCESS) return {};
    NCryptFreeObject(prov);
    prov = 0;
    return "NCryptOpenKey " + code(s);
}

std::string read_key(PCCERT_CONTEXT c, X509* leaf, pkey_ptr& key) {
    HCRYPTPROV_OR_NCRYPT_KEY_HANDLE h = 0;
    DWORD spec = 0;
    BOOL must_free = FALSE;
    if (!CryptAcquireCertificatePrivateKey(c, CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_PREFER_NCRYPT_KEY_FLAG, nullptr,
                                           &h, &spec, &must_free))
        return "cannot open its private key (" + code(GetLastError()) +
               "); the service's account needs read access to it (service/README.md)";
    if (spec == CERT_NCRYPT_KEY_SPEC) {
        const auto refused = export_cng(h, key);
        if (refused.empty()) {
            if (must_free) NCryptFreeObject(h);
            return refused;
        }
        if (must_free) return keep_in_place(leaf, h, 0, refused, key);  // the handle is ours to keep
        // The certificate keeps this handle, which cannot outlive the lookup: open one of our own.
        NCRYPT_PROV_HANDLE prov = 0;
        NCRYPT_KEY_HANDLE k = 0;
        if (const auto p = open_in_cng(c, 0, prov, k); !p.empty())
            return refused + ", and CNG cannot open it to sign in place (" + p + ")";
        return keep_in_place(leaf, k, prov, refused, key);
    }
    const auto refused = export_capi(h, spec, key);
    if (must_free) CryptReleaseContext(h, 0);
    if (refused.empty()) return refused;
    NCRYPT_PROV_HANDLE prov = 0;
    NCRYPT_KEY_HANDLE k = 0;
    if (const auto p = open_in_cng(c, spec, prov, k); !p.empty())
        return refused + ", and CNG cannot open it to sign in place (" + p + ")";
    return keep_in_place(leaf, k, prov, refused, key);
}

// The store's certificates as candidates, each with its context.
struct store_view {
    std::unique_ptr<void, store_closer> store;
    std::vector<store_candidate> candidates;
    std::vector<cert_ptr> contexts;
};

std::string open_view(const store_reference& ref, store_view& v) {
    const bool machine = ref.location == "LocalMachine";
    const DWORD flags = (machine ? CERT_SYSTEM_STORE_LOCAL_MACHINE : CERT_SYSTEM_STORE_CURRENT_USER) |
                        CERT_STORE_READONLY_FLAG | CERT_STORE_OPEN_EXISTING_FLAG;
    const auto name = widen_utf8(ref.store);
    v.store.reset(CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, flags, name.c_str()));
    if (!v.store)
        return "cannot open certificate store " + ref.location + "\\" + ref.store + " (" + code(GetLastError()) + ")";
    for (PCCERT_CONTEXT c = CertEnumCertificatesInStore(v.store.get(), nullptr); c != nullptr;
         c = CertEnumCertificatesInStore(v.store.get(), c)) {
        auto candidate = candidate_from_der(c->pbCertEncoded, static_cast<long>(c->cbCertEncoded), has_key(c));
        if (!candidate) continue;  // OpenSSL cannot read it: it could not be served anyway
        v.candidates.push_back(std::move(*candidate));
        v.contexts.emplace_back(CertDuplicateCertificateContext(c));
    }
    return {};
}

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

void read_store_credentials(const store_reference& ref, credentials& out) {
    const auto fail = [&](const std::string& why) { out.problems.push_back({"certificate_store", why}); };
    store_view v;
    if (const auto p = open_view(ref, v); !p.empty()) return fail(p);
    const auto choice = choose_certificate(v.candidates, ref, now());
    if (!choice.index) return fail(choice.problem);
    const auto* chosen = v.contexts[*choice.index].get();
    out.leaf = to_x509(chosen);
    out.chain = chain_of(chosen, v.store.get(), ref.location == "LocalMachine");
    const auto what =
        "certificate " + v.candidates[*choice.index].thumbprint + " in " + ref.location + "\\" + ref.store;
    if (const auto p = read_key(chosen, out.leaf.get(), out.key); !p.empty()) fail(what + ": " + p);
}

std::string current_thumbprint(const store_reference& ref, std::string& problem) {
    store_view v;
    if (problem = open_view(ref, v); !problem.empty()) return {};
    const auto choice = choose_certificate(v.candidates, ref, now());
    problem = choice.problem;
    return choice.index ? v.candidates[*choice.index].thumbprint : std::string();
}

}  // namespace tlsbroker::config
