#include "service/windows/install_folder.hpp"

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "config/utf16_windows.hpp"
#include "service/windows/acl_policy.hpp"
#include "service/windows/file_security.hpp"

namespace tlsbroker::service {

namespace {

namespace fs = std::filesystem;

std::string error_text(DWORD e) { return "error " + std::to_string(e); }

// Never follows a reparse point: a junction or a symbolic link is opened itself. No delete
// sharing: while the handle is open nobody can rename, delete or replace the folder.
HANDLE open_no_follow(const fs::path& p, DWORD access) {
    return CreateFileW(p.wstring().c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                       FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
}

bool path_is_reparse_point(const fs::path& p) {
    const DWORD attrs = GetFileAttributesW(p.wstring().c_str());
    return attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
}

// What the handle shows. Wine (8.0) opens the target of a unix symlink even with
// FILE_FLAG_OPEN_REPARSE_POINT and shows the link only in the path's attributes: both count.
std::optional<acl::folder_facts> facts_of(HANDLE h, const fs::path& p, std::string& error) {
    FILE_ATTRIBUTE_TAG_INFO tag{};
    if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag)) {
        error = "cannot read its attributes (" + error_text(GetLastError()) + ")";
        return std::nullopt;
    }
    acl::folder_facts f;
    f.reparse_point = (tag.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 || path_is_reparse_point(p);
    f.directory = (tag.FileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    if (!file_acls_are_real()) return f;  // Wine shows the prefix's user as every file's owner
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR sd = nullptr;
    const DWORD rc =
        GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr, nullptr, &sd);
    if (rc != ERROR_SUCCESS) {
        error = "cannot read its owner (" + error_text(rc) + ")";
        return std::nullopt;
    }
    LPWSTR text = nullptr;
    if (owner != nullptr && ConvertSidToStringSidW(owner, &text)) {
        f.owner = config::narrow_utf8(text);
        LocalFree(text);
    }
    LocalFree(sd);
    if (f.owner.empty()) {
        error = "has no readable owner";
        return std::nullopt;
    }
    return f;
}

// Opens `dir` and applies the policy; INVALID_HANDLE_VALUE + `error` when it may not be used.
HANDLE open_checked(const fs::path& dir, DWORD access, std::string& error) {
    HANDLE h = open_no_follow(dir, access | READ_CONTROL | FILE_READ_ATTRIBUTES);
    if (h == INVALID_HANDLE_VALUE) {
        error = dir.string() + ": cannot open it (" + error_text(GetLastError()) + ")";
        return h;
    }
    std::string why;
    if (const auto f = facts_of(h, dir, why)) why = acl::refuse_install_folder(*f);
    if (why.empty()) return h;
    CloseHandle(h);
    error = dir.string() + ": " + why;
    return INVALID_HANDLE_VALUE;
}

bool absent(const fs::path& p) {
    if (GetFileAttributesW(p.wstring().c_str()) != INVALID_FILE_ATTRIBUTES) return false;
    const DWORD e = GetLastError();
    return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND;
}

std::string find_in(const fs::path& dir, int depth) {
    if (depth > 32) return dir.string() + ": nested too deep";
    WIN32_FIND_DATAW fd;
    HANDLE find =
        FindFirstFileExW((dir / L"*").wstring().c_str(), FindExInfoBasic, &fd, FindExSearchNameMatch, nullptr, 0);
    if (find == INVALID_HANDLE_VALUE) return {};
    std::string found;
    do {
        const std::wstring name = fd.cFileName;
        if (name == L"." || name == L"..") continue;
        const auto p = dir / name;
        if ((fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 || path_is_reparse_point(p))
            found = p.string() + ": is a junction or symbolic link";
        else if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
            found = find_in(p, depth + 1);
    } while (found.empty() && FindNextFileW(find, &fd));
    FindClose(find);
    return found;
}

}  // namespace

std::unique_ptr<install_folder> install_folder::open(const fs::path& dir, const std::string& sddl, bool create,
                                                     std::string& error) {
    enable_installer_privileges();
    bool created = false;
    if (create) {
        // One call: the folder never exists under ProgramData's inherited ACL (users may add
        // files there). An existing entry, a junction included, is never followed: the call
        // fails with ERROR_ALREADY_EXISTS and the entry is judged below.
        PSECURITY_DESCRIPTOR sd = nullptr;
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(config::widen_utf8(sddl).c_str(), SDDL_REVISION_1,
                                                                  &sd, nullptr)) {
            error = "invalid SDDL (" + error_text(GetLastError()) + ")";
            return nullptr;
        }
        SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
        created = CreateDirectoryW(dir.wstring().c_str(), &sa) != 0;
        const DWORD e = GetLastError();
        LocalFree(sd);
        if (!created && e != ERROR_ALREADY_EXISTS) {
            error = dir.string() + ": cannot create it (" + error_text(e) + ")";
            return nullptr;
        }
    }
    HANDLE h = open_checked(dir, WRITE_DAC | WRITE_OWNER, error);
    if (h == INVALID_HANDLE_VALUE) return nullptr;
    return std::unique_ptr<install_folder>(new install_folder(h, created));
}

install_folder::~install_folder() { CloseHandle(static_cast<HANDLE>(handle_)); }

std::string install_folder::secure(const std::string& sddl) { return apply_sddl_to_handle(handle_, sddl); }

std::string find_reparse_point(const fs::path& dir) { return find_in(dir, 0); }

std::string check_existing_folder(const fs::path& dir) {
    if (absent(dir)) return {};
    std::string error;
    HANDLE h = open_checked(dir, 0, error);
    if (h == INVALID_HANDLE_VALUE) return error;
    CloseHandle(h);
    return {};
}

std::string check_log_folder(const fs::path& dir) {
    std::ifstream in(dir / "tlsbroker.json");
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("log") || !j["log"].is_object() ||
        !j["log"].contains("file") || !j["log"]["file"].is_string())
        return {};
    fs::path file = j["log"]["file"].get<std::string>();
    if (file.is_relative()) file = dir / file;
    const auto folder = file.lexically_normal().parent_path();
    const auto inside = folder.lexically_relative(dir.lexically_normal());
    if (!inside.empty() && *inside.begin() != "..") return {};  // DIR or below it: already walked
    if (auto problem = check_existing_folder(folder); !problem.empty()) return "log folder " + problem;
    return {};
}

}  // namespace tlsbroker::service
