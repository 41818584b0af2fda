// A key_signer over NCryptSignHash (config/ncrypt_signer.hpp): the key stays in its key
// storage provider; OpenSSL hands over the digest and gets the signature back.
#include <windows.h>

// bcrypt.h and ncrypt.h need windows.h first.
#include <bcrypt.h>
#include <ncrypt.h>

#include <cstdio>
#include <cstring>

#include "config/ncrypt_signer.hpp"

namespace tlsbroker::config {

namespace {

std::string status_text(SECURITY_STATUS s) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08lX", static_cast<unsigned long>(s));
    return buf;
}

// CNG's name of a hash OpenSSL names; nullptr for one CNG does not sign with.
const wchar_t* cng_hash(const std::string& name) {
    if (name == "SHA256") return BCRYPT_SHA256_ALGORITHM;
    if (name == "SHA384") return BCRYPT_SHA384_ALGORITHM;
    if (name == "SHA512") return BCRYPT_SHA512_ALGORITHM;
    if (name == "SHA1") return BCRYPT_SHA1_ALGORITHM;
    return nullptr;
}

class ncrypt_signer : public key_signer {
public:
    ncrypt_signer(NCRYPT_KEY_HANDLE key, NCRYPT_PROV_HANDLE provider) : key_(key), provider_(provider) {}
    ~ncrypt_signer() override {
        NCryptFreeObject(key_);
        if (provider_ != 0) NCryptFreeObject(provider_);
    }
    ncrypt_signer(const ncrypt_signer&) = delete;
    ncrypt_signer& operator=(const ncrypt_signer&) = delete;

    bool sign(const sign_request& r, std::vector<unsigned char>& out, std::string& problem) override {
        const wchar_t* hash = cng_hash(r.digest);
        if (hash == nullptr) {
            problem = "CNG does not sign " + r.digest + " digests";
            return false;
        }
        BCRYPT_PKCS1_PADDING_INFO pkcs1{hash};
        BCRYPT_PSS_PADDING_INFO pss{hash, static_cast<ULONG>(r.salt_length)};
        void* padding = nullptr;
        DWORD flags = NCRYPT_SILENT_FLAG;
        if (r.scheme == sign_scheme::rsa_pkcs1) {
            padding = &pkcs1;
            flags |= BCRYPT_PAD_PKCS1;
        } else if (r.scheme == sign_scheme::rsa_pss) {
            if (r.mgf1_digest != r.digest) {
                problem = "CNG's PSS takes MGF1 with the signature's hash, not " + r.mgf1_digest;
                return false;
            }
            padding = &pss;
            flags |= BCRYPT_PAD_PSS;
        }
        auto* data = const_cast<PBYTE>(r.hash);
        const auto size = static_cast<DWORD>(r.hash_size);
        DWORD n = 0;
        SECURITY_STATUS s = NCryptSignHash(key_, padding, data, size, nullptr, 0, &n, flags);
        std::vector<unsigned char> raw(n);
        if (s == ERROR_SUCCESS) s = NCryptSignHash(key_, padding, data, size, raw.data(), n, &n, flags);
        if (s != ERROR_SUCCESS) {
            problem = "NCryptSignHash failed (" + status_text(s) + ")";
            return false;
        }
        raw.resize(n);
        if (r.scheme != sign_scheme::ecdsa) {
            out = std::move(raw);
            return true;
        }
        if (!ecdsa_der_from_raw(raw, out)) {
            problem = "CNG's ECDSA signature (" + std::to_string(n) + " bytes) does not convert to DER";
            return false;
        }
        return true;
    }

private:
    NCRYPT_KEY_HANDLE key_;
    NCRYPT_PROV_HANDLE provider_;
};

}  // namespace

std::shared_ptr<key_signer> make_ncrypt_signer(std::uintptr_t key, std::uintptr_t provider) {
    return std::make_shared<ncrypt_signer>(static_cast<NCRYPT_KEY_HANDLE>(key),
                                           static_cast<NCRYPT_PROV_HANDLE>(provider));
}

}  // namespace tlsbroker::config
