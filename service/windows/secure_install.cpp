#include "service/windows/secure_install.hpp"

#include <array>
#include <map>
#include <optional>
#include <vector>

#include "service/default_config.hpp"
#include "service/windows/acl_policy.hpp"
#include "service/windows/file_security.hpp"
#include "service/windows/install_folder.hpp"
#include "service/windows/install_record.hpp"
#include "service/windows/service_sid.hpp"

namespace tlsbroker::service {

namespace {

namespace fs = std::filesystem;

constexpr std::array<const char*, 3> trusted_files{"tlsbroker.json", "server.crt", "server.key"};

std::optional<acl::finding> judge_path(const fs::path& p, bool folder, const std::string& svc, std::ostream& out) {
    std::string error;
    const auto text = read_sddl(p, error);
    if (!text) {
        out << p.string() << ": " << error << '\n';
        return std::nullopt;
    }
    const auto d = acl::parse_sddl(*text, error);
    if (!d) {
        out << p.string() << ": unreadable security descriptor (" << error << ")\n";
        return std::nullopt;
    }
    return acl::judge(*d, folder, svc);
}

// Protected DACLs on `dir` and everything below it: logs modifiable by the service, every
// other file readable by it.
std::string lock_down_contents(const fs::path& dir, const std::string& svc) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& p = it->path();
        const bool is_log =
            p.filename().string().rfind("tlsbroker", 0) == 0 && p.filename().string().find(".log") != std::string::npos;
        const auto kind = it->is_directory() ? acl::object_kind::folder
                          : is_log           ? acl::object_kind::log_file
                                             : acl::object_kind::file;
        if (auto problem = apply_sddl(p, acl::sddl_for(kind, svc)); !problem.empty())
            return p.string() + ": " + problem;
    }
    return {};
}

}  // namespace

std::string install_config_dir(const fs::path& dir, const starter_values& values, std::ostream& out) {
    const auto svc = service_sid("tlsbroker");
    const auto folder_sddl = acl::sddl_for(acl::object_kind::folder, svc);
    const bool real = file_acls_are_real();
    if (!real) out << "file ACLs are not kept here (Wine): DACLs applied, owners and existing files not judged\n";

    // Created with its ACL, or opened without following a junction or symbolic link (refused,
    // as is an owner other than SYSTEM/Administrators), and held open until the end.
    std::string error;
    const auto folder = install_folder::open(dir, folder_sddl, true, error);
    if (!folder)
        return error +
               "; nothing was written. Remove it (rmdir removes a junction, not its target), then install again";
    const bool existed = !folder->created();
    if (auto link = find_reparse_point(dir); !link.empty())
        return link + "; nothing was written. Remove it, then install again";
    if (auto problem = check_log_folder(dir); !problem.empty()) return problem + "; nothing was written";

    // What others could do to the folder and its files before this install. A file is judged
    // on its own: whoever could change it either owns it (nobody can give a file they made to
    // Administrators or SYSTEM) or holds a write right on it.
    std::map<std::string, acl::finding> before;
    if (existed && real) {
        if (const auto f = judge_path(dir, true, svc, out); !f || f->refuse())
            out << dir.string() << ": existed and was " << (f ? f->describe() : "unreadable") << "; taken over\n";
        for (const char* name : trusted_files)
            if (fs::exists(dir / name))
                if (const auto f = judge_path(dir / name, false, svc, out)) before[name] = *f;
    }

    // The folder first, so nothing is ever written into it under ProgramData's ACL.
    if (auto problem = folder->secure(folder_sddl); !problem.empty()) return dir.string() + ": " + problem;

    std::error_code ec;
    // A file a non-admin owned or could write is not trusted: set it aside, so that a fresh
    // one is written below.
    for (const char* name : trusted_files) {
        const auto p = dir / name;
        const auto it = before.find(name);
        if (it == before.end() || !it->second.refuse() || !fs::exists(p)) continue;
        auto aside = p;
        aside += ".untrusted";
        fs::remove(aside, ec);
        fs::rename(p, aside, ec);
        if (ec) return "cannot set aside " + p.string() + ": " + ec.message();
        out << p.string() << ": " << it->second.describe() << "; set aside as " << aside.filename().string() << '\n';
    }
    if (auto problem = lock_down_contents(dir, svc); !problem.empty()) return problem;

    const bool had_config = fs::exists(dir / "tlsbroker.json");
    std::vector<std::string> missing;
    for (const char* name : trusted_files)
        if (!fs::exists(dir / name)) missing.emplace_back(name);
    if (auto problem = write_default_config(dir, values); !problem.empty()) return problem;
    out << (had_config ? "kept existing config " : "wrote default config ") << (dir / "tlsbroker.json").string()
        << '\n';
    // What a rollback of this install takes back (nothing when the config was kept).
    std::vector<std::string> created;
    for (const auto& name : missing)
        if (!had_config && fs::exists(dir / name)) created.push_back(name);
    if (auto problem = record_install(dir, created); !problem.empty()) return problem;

    // A key this installer generated, which other users could read: replace it.
    const auto key = before.find("server.key");
    if (key != before.end() && key->second.warn() && fs::exists(dir / "server.key") &&
        is_generated_certificate(dir / "server.crt")) {
        if (auto problem = write_self_signed(dir / "server.crt", dir / "server.key"); !problem.empty()) return problem;
        out << "server.key was " << key->second.describe() << ": replaced with a new self-signed key\n";
    }
    return lock_down_contents(dir, svc);
}

}  // namespace tlsbroker::service
