// The folders the installer writes into as SYSTEM, opened the way a folder any user may have
// made beforehand must be: %ProgramData%\tlsbroker is created with its ACL in one call, or
// opened without following a reparse point and refused when it is a junction, a symbolic link
// or owned by someone other than SYSTEM/Administrators (acl::refuse_install_folder). The folder
// stays open, without delete sharing, so that it cannot be renamed or swapped for a junction
// while the installer works in it; its ACL is set through that handle.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace tlsbroker::service {

class install_folder {
public:
    // Creates `dir` with `sddl` (create = true and it does not exist), or opens the existing
    // one. nullptr + `error` ("C:\…: is a junction or symbolic link") when it may not be used.
    static std::unique_ptr<install_folder> open(const std::filesystem::path& dir, const std::string& sddl, bool create,
                                                std::string& error);
    ~install_folder();
    install_folder(const install_folder&) = delete;
    install_folder& operator=(const install_folder&) = delete;

    bool created() const { return created_; }

    // Owner and protected DACL from `sddl`, through the open handle. "" or the problem.
    std::string secure(const std::string& sddl);

private:
    install_folder(void* handle, bool created) : handle_(handle), created_(created) {}
    void* handle_;
    bool created_;
};

// The first junction or symbolic link below `dir` (recursively, never entering one), as
// "C:\…\name: is a junction or symbolic link"; "" when there is none.
std::string find_reparse_point(const std::filesystem::path& dir);

// An existing folder checked as open() does, without creating or changing anything: "" when
// it is absent or may be used, else the problem. For the installer's other steps on DIR
// (rollback, commit, service settings) and for the log folder.
std::string check_existing_folder(const std::filesystem::path& dir);

// The log folder named by DIR's existing tlsbroker.json (log.file), when it lies outside DIR
// (inside DIR, find_reparse_point() covers it): check_existing_folder(). "" or the problem.
std::string check_log_folder(const std::filesystem::path& dir);

}  // namespace tlsbroker::service
