#include "service/windows/file_security.hpp"

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

namespace tlsbroker::service {

namespace {

std::string narrow(const wchar_t* w) {
    std::string s;
    for (; w != nullptr && *w != 0; ++w) s.push_back(*w < 128 ? static_cast<char>(*w) : '?');
    return s;
}

std::wstring widen(const std::string& s) { return std::wstring(s.begin(), s.end()); }

void enable_privilege(const wchar_t* name) {
    HANDLE token = nullptr;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) return;
    TOKEN_PRIVILEGES tp{};
    tp.PrivilegeCount = 1;
    tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    if (LookupPrivilegeValueW(nullptr, name, &tp.Privileges[0].Luid))
        AdjustTokenPrivileges(token, FALSE, &tp, 0, nullptr, nullptr);
    CloseHandle(token);
}

}  // namespace

std::optional<std::string> read_sddl(const std::filesystem::path& path, std::string& error) {
    PSECURITY_DESCRIPTOR sd = nullptr;
    const DWORD rc = GetNamedSecurityInfoW(path.wstring().c_str(), SE_FILE_OBJECT,
                                           OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                           nullptr, nullptr, &sd);
    if (rc != ERROR_SUCCESS) {
        error = "cannot read the security descriptor (error " + std::to_string(rc) + ")";
        return std::nullopt;
    }
    LPWSTR text = nullptr;
    const BOOL ok = ConvertSecurityDescriptorToStringSecurityDescriptorW(
        sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &text, nullptr);
    LocalFree(sd);
    if (!ok) {
        error = "cannot convert the security descriptor (error " + std::to_string(GetLastError()) + ")";
        return std::nullopt;
    }
    std::string out = narrow(text);
    LocalFree(text);
    return out;
}

std::string apply_sddl(const std::filesystem::path& path, const std::string& sddl) {
    static const bool privileges = [] {
        enable_privilege(L"SeTakeOwnershipPrivilege");
        enable_privilege(L"SeRestorePrivilege");
        return true;
    }();
    (void)privileges;
    PSECURITY_DESCRIPTOR sd = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(widen(sddl).c_str(), SDDL_REVISION_1, &sd, nullptr))
        return "invalid SDDL (error " + std::to_string(GetLastError()) + ")";
    PSID owner = nullptr;
    PACL dacl = nullptr;
    BOOL defaulted = FALSE, present = FALSE;
    GetSecurityDescriptorOwner(sd, &owner, &defaulted);
    GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
    std::wstring name = path.wstring();
    // Owner first: once ours, the DACL may be rewritten whatever it granted before.
    DWORD rc = SetNamedSecurityInfoW(name.data(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, owner, nullptr, nullptr,
                                     nullptr);
    if (rc == ERROR_SUCCESS)
        rc = SetNamedSecurityInfoW(name.data(), SE_FILE_OBJECT,
                                   DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                   dacl, nullptr);
    LocalFree(sd);
    if (rc != ERROR_SUCCESS) return "cannot set the owner and DACL (error " + std::to_string(rc) + ")";
    return {};
}

bool file_acls_are_real() {
    const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll == nullptr || GetProcAddress(ntdll, "wine_get_version") == nullptr;
}

}  // namespace tlsbroker::service
