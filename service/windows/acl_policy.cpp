#include "service/windows/acl_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <utility>

namespace tlsbroker::service::acl {

namespace {

// SDDL's two-letter names for well-known SIDs (those that denote a machine-independent SID).
constexpr std::array<std::pair<std::string_view, std::string_view>, 24> sid_aliases{{
    {"AN", "S-1-5-7"},      {"AO", "S-1-5-32-548"}, {"AU", "S-1-5-11"},     {"BA", "S-1-5-32-544"},
    {"BG", "S-1-5-32-546"}, {"BO", "S-1-5-32-551"}, {"BU", "S-1-5-32-545"}, {"CG", "S-1-3-1"},
    {"CO", "S-1-3-0"},      {"IU", "S-1-5-4"},      {"LS", "S-1-5-19"},     {"NS", "S-1-5-20"},
    {"NU", "S-1-5-2"},      {"OW", "S-1-3-4"},      {"PU", "S-1-5-32-547"}, {"RC", "S-1-5-12"},
    {"SO", "S-1-5-32-549"}, {"SU", "S-1-5-6"},      {"SY", "S-1-5-18"},     {"WD", "S-1-1-0"},
    {"WR", "S-1-5-33"},     {"AC", "S-1-15-2-1"},   {"RU", "S-1-5-32-554"}, {"IS", "S-1-5-32-568"},
}};

constexpr std::array<std::pair<std::string_view, std::uint32_t>, 23> right_aliases{{
    {"GA", rights::generic_all},
    {"GR", rights::generic_read},
    {"GW", rights::generic_write},
    {"GX", 0x20000000},
    {"RC", 0x20000},
    {"SD", rights::del},
    {"WD", rights::write_dac},
    {"WO", rights::write_owner},
    {"RP", 0x10},
    {"WP", 0x20},
    {"CC", 0x1},
    {"DC", 0x2},
    {"LC", 0x4},
    {"SW", 0x8},
    {"LO", 0x80},
    {"DT", 0x40},
    {"CR", 0x100},
    {"FA", rights::file_all},
    {"FR", 0x120089},
    {"FW", 0x120116},
    {"FX", 0x1200A0},
    {"KA", 0xF003F},
    {"KR", 0x20019},
}};

std::string resolve_sid(std::string_view s) {
    for (const auto& [alias, sid] : sid_aliases)
        if (s == alias) return std::string(sid);
    return std::string(s);
}

std::optional<std::uint32_t> parse_rights(std::string_view s) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        std::uint32_t v = 0;
        for (const char c : s.substr(2)) {
            if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
            v = v * 16 + static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(c))
                                                        ? c - '0'
                                                        : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
        }
        return v;
    }
    if (s.size() % 2 != 0) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        const auto code = s.substr(i, 2);
        const auto* const it =
            std::find_if(right_aliases.begin(), right_aliases.end(), [&](const auto& r) { return r.first == code; });
        if (it == right_aliases.end()) return std::nullopt;
        v |= it->second;
    }
    return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == sep) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    return out;
}

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

// The part of `sddl` after `tag` ("O:", "D:") up to the next part.
std::optional<std::string_view> section(std::string_view sddl, std::string_view tag) {
    // Parts start with O:, G:, D:, S: outside parentheses.
    int depth = 0;
    for (std::size_t i = 0; i + 1 < sddl.size(); ++i) {
        if (sddl[i] == '(') ++depth;
        if (sddl[i] == ')') --depth;
        if (depth == 0 && sddl.substr(i, 2) == tag && (i == 0 || sddl[i - 1] != '(')) {
            std::size_t end = i + 2;
            int d = 0;
            for (; end < sddl.size(); ++end) {
                if (sddl[end] == '(') ++d;
                if (sddl[end] == ')') --d;
                if (d == 0 && end + 1 < sddl.size() && sddl[end + 1] == ':' &&
                    std::string_view("OGDS").find(sddl[end]) != std::string_view::npos)
                    break;
            }
            return sddl.substr(i + 2, end - i - 2);
        }
    }
    return std::nullopt;
}

bool trusted(const std::string& sid) {
    return sid == sids::system || sid == sids::administrators || sid == sids::trusted_installer;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

std::string sddl_for(object_kind kind, const std::string& service_sid) {
    const std::string head = "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
    switch (kind) {
        case object_kind::folder:
            return head + "(A;OICI;" + hex(rights::read_execute) + ";;;" + service_sid + ")" +  // read everything
                   "(A;;" + hex(rights::write_data) + ";;;" + service_sid + ")" +               // add files (logs)
                   "(A;OIIO;" + hex(rights::modify) + ";;;CO)";                                 // modify what it added
        case object_kind::file:
            return "O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;" + hex(rights::read_execute) + ";;;" + service_sid + ")";
        case object_kind::log_file:
            return "O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;" + hex(rights::modify) + ";;;" + service_sid + ")";
    }
    return {};
}

std::optional<descriptor> parse_sddl(std::string_view sddl, std::string& error) {
    descriptor d;
    if (const auto owner = section(sddl, "O:")) d.owner = resolve_sid(*owner);
    const auto dacl = section(sddl, "D:");
    if (!dacl) return d;  // no DACL part: a null DACL
    const auto open = dacl->find('(');
    const auto flags = dacl->substr(0, open);
    if (flags.find("NO_ACCESS_CONTROL") != std::string_view::npos) return d;
    d.dacl_present = true;
    d.dacl_protected = flags.find('P') != std::string_view::npos;
    if (open == std::string_view::npos) return d;  // an empty DACL: nobody has access
    std::string_view rest = dacl->substr(open);
    while (!rest.empty()) {
        if (rest.front() != '(') {
            error = "expected '(' at \"" + std::string(rest) + "\"";
            return std::nullopt;
        }
        const auto close = rest.find(')');
        if (close == std::string_view::npos) {
            error = "unterminated ACE";
            return std::nullopt;
        }
        const auto fields = split(rest.substr(1, close - 1), ';');
        rest.remove_prefix(close + 1);
        if (fields.size() < 6) {
            error = "an ACE has " + std::to_string(fields.size()) + " fields, not 6";
            return std::nullopt;
        }
        const auto type = fields[0];
        if (type != "A" && type != "D" && type != "OA" && type != "OD" && type != "XA" && type != "XD") continue;
        const auto mask = parse_rights(fields[2]);
        if (!mask) {
            error = "unknown access rights \"" + std::string(fields[2]) + "\"";
            return std::nullopt;
        }
        ace a;
        a.allow = type.back() == 'A';
        for (std::size_t i = 0; i + 1 < fields[1].size(); i += 2)
            if (fields[1].substr(i, 2) == "IO") a.inherit_only = true;
        a.sid = resolve_sid(fields[5]);
        a.mask = *mask;
        d.aces.push_back(std::move(a));
    }
    return d;
}

finding judge(const descriptor& d, bool folder, const std::string& service_sid) {
    using namespace rights;
    finding f;
    if (!d.dacl_present) {
        f.null_dacl = true;
        return f;
    }
    if (!d.owner.empty() && !trusted(d.owner)) f.untrusted_owner = d.owner;
    // Rights that change a file; on a folder, those that let someone delete or replace a file
    // in it (or the folder). Adding files to a folder is not among them: every file the
    // service reads exists already, and a new one cannot take an existing one's name.
    const std::uint32_t change =
        folder ? write_dac | write_owner | del | generic_all | delete_child
               : write_dac | write_owner | del | generic_all | generic_write | write_data | append_data;
    const std::uint32_t read = read_data | generic_read | generic_all;
    for (const auto& a : d.aces) {
        if (!a.allow || a.inherit_only || trusted(a.sid)) continue;
        // CREATOR OWNER/GROUP apply only through inheritance; OWNER RIGHTS stand for the
        // owner, who is checked above.
        if (a.sid == sids::creator_owner || a.sid == sids::creator_group || a.sid == sids::owner_rights) continue;
        const bool is_service = a.sid == service_sid;
        if (a.mask & change) add_unique(f.writers, a.sid);
        if (!folder && !is_service && (a.mask & read)) add_unique(f.readers, a.sid);
    }
    return f;
}

std::string finding::describe() const {
    std::string out;
    auto part = [&out](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
    auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s;
    };
    if (null_dacl) part("no DACL (everyone has full access)");
    if (!untrusted_owner.empty()) part("owned by " + untrusted_owner + " (not SYSTEM or Administrators)");
    if (!writers.empty()) part("writable by " + list(writers));
    if (!readers.empty()) part("readable by " + list(readers));
    return out.empty() ? "protected" : out;
}

std::string refuse_install_folder(const folder_facts& f) {
    if (f.reparse_point) return "is a junction or symbolic link";
    if (!f.directory) return "is not a folder";
    if (!f.owner.empty() && f.owner != sids::system && f.owner != sids::administrators)
        return "is owned by " + f.owner + ", not by SYSTEM or Administrators";
    return {};
}

}  // namespace tlsbroker::service::acl
