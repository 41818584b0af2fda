#include "service/windows/file_security.hpp"

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include "config/utf16_windows.hpp"

namespace tlsbroker::service {

namespace {

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
    std::string out = config::narrow_utf8(text);
    LocalFree(text);
    return out;
}

void enable_installer_privileges() {
    static const bool enabled = [] {
        enable_privilege(L"SeTakeOwnershipPrivilege");
        enable_privilege(L"SeRestorePrivilege");
        enable_privilege(L"SeBackupPrivilege");
        return true;
    }();
    (void)enabled;
}

std::string apply_sddl_to_handle(void* handle, const std::string& sddl) {
    PSECURITY_DESCRIPTOR sd = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(config::widen_utf8(sddl).c_str(), SDDL_REVISION_1, &sd,
                                                              nullptr))
        return "invalid SDDL (error " + std::to_string(GetLastError()) + ")";
    PSID owner = nullptr;
    PACL dacl = nullptr;
    BOOL defaulted = FALSE, present = FALSE;
    GetSecurityDescriptorOwner(sd, &owner, &defaulted);
    GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
    // Owner first: once ours, the DACL may be rewritten whatever it granted before. Through a
    // handle, the DACL is not pushed down to children (each one gets its own, explicitly).
    DWORD rc = SetSecurityInfo(static_cast<HANDLE>(handle), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, owner, nullptr,
                               nullptr, nullptr);
    if (rc == ERROR_SUCCESS)
        rc = SetSecurityInfo(static_cast<HANDLE>(handle), SE_FILE_OBJECT,
                             DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr, nullptr, dacl,
                             nullptr);
    LocalFree(sd);
    if (rc != ERROR_SUCCESS) return "cannot set the owner and DACL (error " + std::to_string(rc) + ")";
    return {};
}

std::string apply_sddl(const std::filesystem::path& path, const std::string& sddl) {
    enable_installer_privileges();
    // Backup semantics (with SeRestorePrivilege) grant WRITE_DAC and WRITE_OWNER whatever the
    // DACL says; FILE_FLAG_OPEN_REPARSE_POINT opens a link itself, never its target.
    HANDLE h = CreateFileW(path.wstring().c_str(), READ_CONTROL | WRITE_DAC | WRITE_OWNER | FILE_READ_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (h == INVALID_HANDLE_VALUE) return "cannot open it (error " + std::to_string(GetLastError()) + ")";
    FILE_ATTRIBUTE_TAG_INFO tag{};
    const DWORD path_attrs = GetFileAttributesW(path.wstring().c_str());
    const bool link = !GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag) ||
                      (tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 ||
                      (path_attrs != INVALID_FILE_ATTRIBUTES && (path_attrs & FILE_ATTRIBUTE_REPARSE_POINT) != 0);
    std::string problem = link ? "is a junction or symbolic link: its ACL is not set" : apply_sddl_to_handle(h, sddl);
    CloseHandle(h);
    return problem;
}

bool file_acls_are_real() {
    const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll == nullptr || GetProcAddress(ntdll, "wine_get_version") == nullptr;
}

}  // namespace tlsbroker::service
