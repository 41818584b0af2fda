// The Win32 side of acl_policy: a file's owner and DACL as SDDL text, and applying an SDDL
// string to a file or folder. Policy (which SDDL, what is acceptable) lives in acl_policy.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tlsbroker::service {

// Owner and DACL of `path` as SDDL; nullopt + `error` when they cannot be read.
std::optional<std::string> read_sddl(const std::filesystem::path& path, std::string& error);

// Sets the owner and the (protected) DACL of `path` from `sddl`. Takes ownership first when
// the caller holds SeTakeOwnershipPrivilege (the installer runs as SYSTEM), so a folder or
// file created by someone else is taken over. Never through a reparse point: `path` is opened
// itself (FILE_FLAG_OPEN_REPARSE_POINT), and a junction or symbolic link is refused. Returns ""
// or the problem.
std::string apply_sddl(const std::filesystem::path& path, const std::string& sddl);

// The same on an open file or folder handle (a HANDLE), which is not checked again.
std::string apply_sddl_to_handle(void* handle, const std::string& sddl);

// SeTakeOwnershipPrivilege, SeRestorePrivilege and SeBackupPrivilege, when the process holds
// them (SYSTEM does): the installer may then open and re-own what another user created.
void enable_installer_privileges();

// Wine keeps no file DACLs (it derives one from the unix mode bits when asked), so what
// read_sddl() returns there says nothing about who may read or write a file.
bool file_acls_are_real();

}  // namespace tlsbroker::service
