// Test helper for the Wine suite: puts a PFX into the Windows certificate store the way an
// administrator's import does, and takes it out again.
//   cert-store-tool import FILE.pfx PASSWORD [LocalMachine|CurrentUser] [STORE]
//       the certificate with the key goes to STORE (default My), its key exportable in the
//       user key set (the service runs as the prefix's user under Wine); the other
//       certificates to CA (self-signed ones to Root); prints "thumbprint=<40 hex>"
//   cert-store-tool import-non-exportable …   the same, the key not exportable
//   cert-store-tool delete THUMBPRINT [LocalMachine|CurrentUser] [STORE]
// Exit 0 on success, 1 on failure (with the Windows error code), 2 on a usage error.
// Wine 8 writes a system store to the registry only when the store is closed, and does not
// remove a deleted certificate from it: delete also removes the certificate's registry key.
// More Wine facts this works around: service/README.md, "The Windows certificate store".
#include <windows.h>

// wincrypt.h needs windows.h first.
#include <wincrypt.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::wstring widen(const char* s) {
    std::wstring w;
    for (; *s != 0; ++s) w += static_cast<wchar_t>(static_cast<unsigned char>(*s));
    return w;
}

std::string thumbprint(PCCERT_CONTEXT c) {
    BYTE h[20];
    DWORD n = sizeof h;
    std::string out;
    if (!CertGetCertificateContextProperty(c, CERT_HASH_PROP_ID, h, &n)) return out;
    char two[3];
    for (DWORD i = 0; i < n; ++i) {
        std::snprintf(two, sizeof two, "%02X", h[i]);
        out += two;
    }
    return out;
}

int fail(const char* what) {
    std::fprintf(stderr, "cert-store-tool: %s failed: 0x%08lX\n", what, GetLastError());
    return 1;
}

HCERTSTORE open_store(bool machine, const char* name) {
    return CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                         machine ? CERT_SYSTEM_STORE_LOCAL_MACHINE : CERT_SYSTEM_STORE_CURRENT_USER,
                         widen(name).c_str());
}

bool has_key(PCCERT_CONTEXT c) {
    DWORD n = 0;
    return CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &n) != FALSE;
}

// Wine 8's PFXImportCertStore puts every key into the key set's default container, so a second
// import replaces the first one's key (seen: "private key does not match certificate"): copy
// the key into a container named by the thumbprint and point the certificate at it.
bool own_container(PCCERT_CONTEXT c, const std::string& thumb, bool exportable) {
    HCRYPTPROV_OR_NCRYPT_KEY_HANDLE h = 0;
    DWORD spec = 0;
    BOOL must_free = FALSE;
    if (!CryptAcquireCertificatePrivateKey(c, CRYPT_ACQUIRE_SILENT_FLAG, nullptr, &h, &spec, &must_free)) return false;
    HCRYPTKEY k = 0;
    DWORD n = 0;
    std::vector<BYTE> blob;
    bool ok = CryptGetUserKey(h, spec == AT_SIGNATURE ? AT_SIGNATURE : AT_KEYEXCHANGE, &k) &&
              CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, nullptr, &n);
    if (ok) {
        blob.resize(n);
        ok = CryptExportKey(k, 0, PRIVATEKEYBLOB, 0, blob.data(), &n);
    }
    if (k != 0) CryptDestroyKey(k);
    if (must_free) CryptReleaseContext(h, 0);
    DWORD size = 0;
    if (!ok || !CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, nullptr, &size)) return false;
    std::vector<BYTE> info_bytes(size);
    if (!CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, info_bytes.data(), &size)) return false;
    CRYPT_KEY_PROV_INFO info = *reinterpret_cast<CRYPT_KEY_PROV_INFO*>(info_bytes.data());
    std::wstring container = widen(("tlsbroker-test-" + thumb).c_str());
    HCRYPTPROV prov = 0;
    const DWORD machine = info.dwFlags & CRYPT_MACHINE_KEYSET;
    if (!CryptAcquireContextW(&prov, container.c_str(), info.pwszProvName, info.dwProvType,
                              CRYPT_NEWKEYSET | machine) &&
        !CryptAcquireContextW(&prov, container.c_str(), info.pwszProvName, info.dwProvType, machine)) {
        std::fprintf(stderr, "cert-store-tool: CryptAcquireContextW(%ls) failed: 0x%08lX\n", container.c_str(),
                     GetLastError());
        return false;
    }
    HCRYPTKEY copy = 0;
    ok = CryptImportKey(prov, blob.data(), n, 0, exportable ? CRYPT_EXPORTABLE : 0, &copy);
    if (!ok) std::fprintf(stderr, "cert-store-tool: CryptImportKey failed: 0x%08lX\n", GetLastError());
    if (copy != 0) CryptDestroyKey(copy);
    CryptReleaseContext(prov, 0);
    info.pwszContainerName = container.data();
    return ok && CertSetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, 0, &info);
}

int import(const char* file, const char* password, bool machine, const char* store_name, bool exportable) {
    std::vector<BYTE> data;
    if (FILE* f = std::fopen(file, "rb")) {
        BYTE buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) data.insert(data.end(), buf, buf + n);
        std::fclose(f);
    }
    if (data.empty()) return fail("reading the PFX file");
    CRYPT_DATA_BLOB blob{static_cast<DWORD>(data.size()), data.data()};
    // The user key set: under Wine 8 a key imported with CRYPT_MACHINE_KEYSET from an AES PFX
    // cannot be opened again (CryptAcquireCertificatePrivateKey: CRYPT_E_NO_KEY_PROPERTY).
    HCERTSTORE pfx = PFXImportCertStore(&blob, widen(password).c_str(), CRYPT_EXPORTABLE | CRYPT_USER_KEYSET);
    if (pfx == nullptr) return fail("PFXImportCertStore");
    // One store open at a time, closed (and so written) before the next: with the three open
    // together, Wine 8 wrote the intermediate into My and lost a second leaf.
    std::string leaf;
    for (const int pass : {0, 1}) {  // the CA certificates first, then the leaf
        for (PCCERT_CONTEXT c = CertEnumCertificatesInStore(pfx, nullptr); c != nullptr;
             c = CertEnumCertificatesInStore(pfx, c)) {
            if (has_key(c) != (pass == 1)) continue;
            if (pass == 1 && !own_container(c, thumbprint(c), exportable))
                return fail("copying the key to its own container");
            const bool self_signed =
                CertCompareCertificateName(X509_ASN_ENCODING, &c->pCertInfo->Subject, &c->pCertInfo->Issuer) != FALSE;
            HCERTSTORE to = open_store(machine, pass == 1 ? store_name : self_signed ? "Root" : "CA");
            if (to == nullptr) return fail("CertOpenStore");
            if (!CertAddCertificateContextToStore(to, c, CERT_STORE_ADD_REPLACE_EXISTING, nullptr))
                return fail("CertAddCertificateContextToStore");
            CertCloseStore(to, 0);  // Wine writes a system store only when it is closed
            if (pass == 1) leaf = thumbprint(c);
        }
    }
    CertCloseStore(pfx, 0);
    if (leaf.empty()) {
        std::fprintf(stderr, "cert-store-tool: the PFX holds no certificate with a private key\n");
        return 1;
    }
    std::printf("thumbprint=%s\n", leaf.c_str());
    return 0;
}

int remove(const char* thumb, bool machine, const char* store_name) {
    BYTE h[20];
    if (std::strlen(thumb) != 40) return 2;
    for (int i = 0; i < 20; ++i) {
        char two[3] = {thumb[2 * i], thumb[2 * i + 1], 0};
        h[i] = static_cast<BYTE>(std::strtoul(two, nullptr, 16));
    }
    HCERTSTORE store = open_store(machine, store_name);
    if (store == nullptr) return fail("CertOpenStore");
    CRYPT_HASH_BLOB hb{20, h};
    PCCERT_CONTEXT c = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_HASH, &hb, nullptr);
    if (c == nullptr) return fail("CertFindCertificateInStore");
    if (!CertDeleteCertificateFromStore(c)) return fail("CertDeleteCertificateFromStore");
    CertCloseStore(store, 0);
    const std::wstring key =
        L"Software\\Microsoft\\SystemCertificates\\" + widen(store_name) + L"\\Certificates\\" + widen(thumb);
    RegDeleteKeyW(machine ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER, key.c_str());  // gone already on Windows
    std::printf("deleted=%s\n", thumb);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    const std::string mode = argv[1];
    const bool importing = mode == "import" || mode == "import-non-exportable";
    const int extra = importing ? 4 : 3;
    const bool machine = argc <= extra || std::strcmp(argv[extra], "CurrentUser") != 0;
    const char* store = argc > extra + 1 ? argv[extra + 1] : "My";
    if (importing && argc >= 4) return import(argv[2], argv[3], machine, store, mode == "import");
    if (mode == "delete") return remove(argv[2], machine, store);
    return 2;
}
