// Who may touch the broker's configuration, key and log on Windows, as pure functions over
// SDDL text (no Win32 call): the security descriptors the installer applies, and the check
// the service makes at start on what it finds. The Win32 side (file_security.cpp) only
// converts between files and SDDL, so everything here is unit-tested on Linux.
//
// Policy: %ProgramData%\tlsbroker and every file in it have a protected DACL (nothing
// inherited from ProgramData, where every user may read and create): SYSTEM and
// Administrators full control, the service's own SID (NT SERVICE\tlsbroker) read; on the
// folder the service may also add files (its log and rotated logs), which it then owns and
// may modify (CREATOR OWNER). Owner: Administrators.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlsbroker::service::acl {

namespace sids {
inline constexpr const char* system = "S-1-5-18";
inline constexpr const char* administrators = "S-1-5-32-544";
inline constexpr const char* trusted_installer = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";
inline constexpr const char* creator_owner = "S-1-3-0";
inline constexpr const char* creator_group = "S-1-3-1";
inline constexpr const char* owner_rights = "S-1-3-4";
}  // namespace sids

namespace rights {
inline constexpr std::uint32_t read_data = 0x1;      // FILE_READ_DATA / FILE_LIST_DIRECTORY
inline constexpr std::uint32_t write_data = 0x2;     // FILE_WRITE_DATA / FILE_ADD_FILE
inline constexpr std::uint32_t append_data = 0x4;    // FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY
inline constexpr std::uint32_t delete_child = 0x40;  // FILE_DELETE_CHILD
inline constexpr std::uint32_t del = 0x10000;        // DELETE
inline constexpr std::uint32_t write_dac = 0x40000;
inline constexpr std::uint32_t write_owner = 0x80000;
inline constexpr std::uint32_t generic_all = 0x10000000;
inline constexpr std::uint32_t generic_write = 0x40000000;
inline constexpr std::uint32_t generic_read = 0x80000000;
inline constexpr std::uint32_t file_all = 0x1F01FF;      // FA
inline constexpr std::uint32_t read_execute = 0x1200A9;  // icacls (RX)
inline constexpr std::uint32_t modify = 0x1301BF;        // icacls (M)
}  // namespace rights

enum class object_kind {
    folder,    // %ProgramData%\tlsbroker
    file,      // tlsbroker.json, server.crt, server.key: the service reads them
    log_file,  // tlsbroker.log: the service modifies it
};

// The SDDL the installer applies (owner Administrators, protected DACL).
std::string sddl_for(object_kind kind, const std::string& service_sid);

struct ace {
    bool allow = true;          // false: a deny ACE
    bool inherit_only = false;  // IO: applies to children only, not to this object
    std::string sid;            // "S-1-…" (abbreviations resolved); unknown ones kept as written
    std::uint32_t mask = 0;
};

struct descriptor {
    std::string owner;  // "" when the SDDL has none
    bool dacl_present = false;
    bool dacl_protected = false;
    std::vector<ace> aces;
};

// Parses the owner and DACL parts of an SDDL string (as ConvertSecurityDescriptorTo-
// StringSecurityDescriptor writes it, or as sddl_for() does). nullopt + `error` when malformed.
std::optional<descriptor> parse_sddl(std::string_view sddl, std::string& error);

// What the service thinks of a config file, key, or their folder.
struct finding {
    bool null_dacl = false;            // no DACL: everyone has full access
    std::string untrusted_owner;       // an owner who may rewrite the DACL at will
    std::vector<std::string> writers;  // SIDs, other than SYSTEM/Administrators/TrustedInstaller, who may change
                                       // it (a folder: delete or replace what is in it)
    std::vector<std::string> readers;  // SIDs, other than those and the service, who may read it (files only)

    bool refuse() const { return null_dacl || !untrusted_owner.empty() || !writers.empty(); }
    bool warn() const { return !readers.empty(); }
    std::string describe() const;  // "writable by S-1-5-32-545; readable by …", for logs
};

// Deny ACEs are not credited (a finding may be stricter than Windows' own access check).
finding judge(const descriptor& d, bool folder, const std::string& service_sid);

// A folder the installer (SYSTEM) is about to write into or set ACLs on: %ProgramData%\tlsbroker,
// which any user may create before the install, and the log folder. As install_folder.cpp reads
// it, without following a reparse point.
struct folder_facts {
    bool reparse_point = false;  // a junction, a mount point or a symbolic link
    bool directory = true;
    std::string owner;  // "S-1-…"; "" where this system keeps no owners (Wine)
};

// "" when the installer may use the folder, else why not ("is a junction or symbolic link", …).
// Only SYSTEM or Administrators may own it: nobody else can give a folder they made to them.
std::string refuse_install_folder(const folder_facts& f);

}  // namespace tlsbroker::service::acl
