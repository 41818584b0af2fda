// Read access for the service's account to the private keys of store certificates
// (config/cert_store.hpp, grant_key_read): what the Certificates console's "Manage Private
// Keys" does, through the key's own API (a CNG key's NCRYPT_SECURITY_DESCR_PROPERTY, a CAPI key
// container's PP_KEYSET_SEC_DESCR). The DACL keeps its entries and its protection and gains
// GENERIC_READ for the account; SetEntriesInAcl merges, so a second run changes nothing.
#include <windows.h>

// aclapi.h, ncrypt.h, sddl.h and wincrypt.h need windows.h first.
#include <aclapi.h>
#include <ncrypt.h>
#include <sddl.h>
#include <wincrypt.h>

#include <cstdio>
#include <memory>

#include "config/cert_store.hpp"
#include "config/utf16_windows.hpp"

namespace tlsbroker::config {

namespace {

struct local_freer {
    void operator()(void* p) const { LocalFree(p); }
};
struct store_closer {
    void operator()(void* s) const { CertCloseStore(s, 0); }
};
struct cert_freer {
    void operator()(const CERT_CONTEXT* c) const { CertFreeCertificateContext(c); }
};

std::string hex_status(unsigned long e) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08lX", e);
    return buf;
}

// `sd` with GENERIC_READ for `sid` merged into its DACL, self-relative; empty with `error` set
// when it cannot be built.
std::vector<unsigned char> with_read(PSECURITY_DESCRIPTOR sd, PSID sid, DWORD& error) {
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = nullptr;
    if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
        error = GetLastError();
        return {};
    }
    EXPLICIT_ACCESSW ea{};
    ea.grfAccessPermissions = GENERIC_READ;
    ea.grfAccessMode = GRANT_ACCESS;
    ea.grfInheritance = NO_INHERITANCE;
    ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
    ea.Trustee.TrusteeType = TRUSTEE_IS_UNKNOWN;
    ea.Trustee.ptstrName = static_cast<LPWSTR>(sid);
    PACL merged = nullptr;
    if ((error = SetEntriesInAclW(1, &ea, present ? dacl : nullptr, &merged)) != ERROR_SUCCESS) return {};
    const std::unique_ptr<void, local_freer> merged_owner(merged);
    SECURITY_DESCRIPTOR abs{};
    InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION);
    SetSecurityDescriptorDacl(&abs, TRUE, merged, FALSE);
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision = 0;
    if (GetSecurityDescriptorControl(sd, &control, &revision) && (control & SE_DACL_PROTECTED) != 0)
        SetSecurityDescriptorControl(&abs, SE_DACL_PROTECTED, SE_DACL_PROTECTED);
    DWORD n = 0;
    MakeSelfRelativeSD(&abs, nullptr, &n);
    std::vector<unsigned char> out(n);
    if (n == 0 || !MakeSelfRelativeSD(&abs, out.data(), &n)) {
        error = GetLastError();
        return {};
    }
    return out;
}

// Whether the DACL lets `sid` read (an allow entry with GENERIC_READ, GENERIC_ALL, or the
// file read rights a provider may have mapped GENERIC_READ to).
bool grants_read(PSECURITY_DESCRIPTOR sd, PSID sid) {
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = nullptr;
    if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present || dacl == nullptr) return false;
    for (DWORD i = 0; i < dacl->AceCount; ++i) {
        void* ace = nullptr;
        if (!GetAce(dacl, i, &ace) || static_cast<ACE_HEADER*>(ace)->AceType != ACCESS_ALLOWED_ACE_TYPE) continue;
        const auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
        const ACCESS_MASK m = allowed->Mask;
        if (EqualSid(const_cast<DWORD*>(&allowed->SidStart), sid) &&
            ((m & (GENERIC_READ | GENERIC_ALL)) != 0 || (m & FILE_GENERIC_READ) == FILE_GENERIC_READ))
            return true;
    }
    return false;
}

// A key's security descriptor through its API: read (DACL) and written back.
struct key_security {
    virtual ~key_security() = default;
    virtual DWORD get(std::vector<unsigned char>& sd) = 0;
    virtual DWORD set(std::vector<unsigned char>& sd) = 0;
};

struct cng_security final : key_security {
    explicit cng_security(NCRYPT_KEY_HANDLE k) : key(k) {}
    NCRYPT_KEY_HANDLE key;
    DWORD get(std::vector<unsigned char>& sd) override {
        const DWORD flags = DACL_SECURITY_INFORMATION | NCRYPT_SILENT_FLAG;
        DWORD n = 0;
        SECURITY_STATUS s = NCryptGetProperty(key, NCRYPT_SECURITY_DESCR_PROPERTY, nullptr, 0, &n, flags);
        if (s != ERROR_SUCCESS) return static_cast<DWORD>(s);
        sd.resize(n);
        return static_cast<DWORD>(NCryptGetProperty(key, NCRYPT_SECURITY_DESCR_PROPERTY, sd.data(), n, &n, flags));
    }
    DWORD set(std::vector<unsigned char>& sd) override {
        return static_cast<DWORD>(NCryptSetProperty(key, NCRYPT_SECURITY_DESCR_PROPERTY, sd.data(),
                                                    static_cast<DWORD>(sd.size()),
                                                    DACL_SECURITY_INFORMATION | NCRYPT_SILENT_FLAG));
    }
};

struct capi_security final : key_security {
    explicit capi_security(HCRYPTPROV p) : prov(p) {}
    HCRYPTPROV prov;
    DWORD get(std::vector<unsigned char>& sd) override {
        DWORD n = 0;
        if (!CryptGetProvParam(prov, PP_KEYSET_SEC_DESCR, nullptr, &n, DACL_SECURITY_INFORMATION))
            return GetLastError();
        sd.resize(n);
        return CryptGetProvParam(prov, PP_KEYSET_SEC_DESCR, sd.data(), &n, DACL_SECURITY_INFORMATION) ? ERROR_SUCCESS
                                                                                                      : GetLastError();
    }
    DWORD set(std::vector<unsigned char>& sd) override {
        return CryptSetProvParam(prov, PP_KEYSET_SEC_DESCR, sd.data(), DACL_SECURITY_INFORMATION) ? ERROR_SUCCESS
                                                                                                  : GetLastError();
    }
};

// Grants and reads back; "" or the problem. `changed`: whether the DACL had to change.
std::string grant_through(key_security& key, PSID sid, bool& changed) {
    std::vector<unsigned char> sd;
    if (const DWORD s = key.get(sd); s != ERROR_SUCCESS)
        return "cannot read its key's security (" + hex_status(s) + ")";
    changed = !grants_read(sd.data(), sid);
    if (!changed) return {};
    DWORD error = 0;
    auto next = with_read(sd.data(), sid, error);
    if (next.empty()) return "cannot build the new access list (" + hex_status(error) + ")";
    if (const DWORD s = key.set(next); s != ERROR_SUCCESS)
        return "cannot write its key's security (" + hex_status(s) + ")";
    if (const DWORD s = key.get(sd); s != ERROR_SUCCESS || !grants_read(sd.data(), sid))
        return "its key's security was written but does not grant read access when read back";
    return {};
}

// Opens the certificate's key and grants; "" or the problem.
std::string grant(PCCERT_CONTEXT c, PSID sid, bool& changed) {
    HCRYPTPROV_OR_NCRYPT_KEY_HANDLE h = 0;
    DWORD spec = 0;
    BOOL must_free = FALSE;
    if (!CryptAcquireCertificatePrivateKey(c, CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_PREFER_NCRYPT_KEY_FLAG, nullptr,
                                           &h, &spec, &must_free))
        return "cannot open its private key (" + hex_status(GetLastError()) + ")";
    std::string problem;
    if (spec == CERT_NCRYPT_KEY_SPEC) {
        cng_security k(h);
        problem = grant_through(k, sid, changed);
        if (must_free) NCryptFreeObject(h);
    } else {
        capi_security k(h);
        problem = grant_through(k, sid, changed);
        if (must_free) CryptReleaseContext(h, 0);
    }
    return problem;
}

}  // namespace

std::string grant_key_read(const store_reference& ref, const std::string& sid_text, std::vector<std::string>& report) {
    PSID sid = nullptr;
    if (!ConvertStringSidToSidA(sid_text.c_str(), &sid)) return "\"" + sid_text + "\" is not a SID";
    const std::unique_ptr<void, local_freer> sid_owner(sid);
    const bool machine = ref.location == "LocalMachine";
    const DWORD flags = (machine ? CERT_SYSTEM_STORE_LOCAL_MACHINE : CERT_SYSTEM_STORE_CURRENT_USER) |
                        CERT_STORE_READONLY_FLAG | CERT_STORE_OPEN_EXISTING_FLAG;
    const auto name = widen_utf8(ref.store);
    const std::unique_ptr<void, store_closer> store(CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, flags, name.c_str()));
    const auto where = ref.location + "\\" + ref.store;
    if (!store) return "cannot open certificate store " + where + " (" + hex_status(GetLastError()) + ")";
    std::vector<store_candidate> candidates;
    std::vector<std::unique_ptr<const CERT_CONTEXT, cert_freer>> contexts;
    for (PCCERT_CONTEXT c = CertEnumCertificatesInStore(store.get(), nullptr); c != nullptr;
         c = CertEnumCertificatesInStore(store.get(), c)) {
        DWORD n = 0;
        const bool key = CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &n) != FALSE;
        auto candidate = candidate_from_der(c->pbCertEncoded, static_cast<long>(c->cbCertEncoded), key);
        if (!candidate) continue;
        candidates.push_back(std::move(*candidate));
        contexts.emplace_back(CertDuplicateCertificateContext(c));
    }
    const auto picks = certificates_to_grant(candidates, ref);
    if (picks.empty()) return "no certificate with a private key in " + where + " matches " + ref.text();
    std::string first_problem;
    for (const auto i : picks) {
        const auto what = "certificate " + candidates[i].thumbprint + " (" + candidates[i].subject + ")";
        bool changed = false;
        if (const auto problem = grant(contexts[i].get(), sid, changed); !problem.empty()) {
            report.push_back(what + ": " + problem);
            if (first_problem.empty()) first_problem = report.back();
        } else {
            report.push_back(what +
                             (changed ? ": read access to its private key granted to "
                                      : ": its private key was readable already by ") +
                             sid_text);
        }
    }
    return first_problem;
}

}  // namespace tlsbroker::config
