#include "config/secret_files.hpp"

#include <cstdio>
#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>
#endif

#include "config/json_reader.hpp"

namespace tlsbroker::config {

namespace {

constexpr std::size_t min_token = 16;
constexpr std::size_t max_token = 4096;

#ifndef _WIN32
std::string mode_text(std::filesystem::perms p) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(p & std::filesystem::perms::mask) & 07777u);
    return buf;
}
#endif

}  // namespace

std::string secret_exposure([[maybe_unused]] const std::filesystem::path& file) {
#ifdef _WIN32
    return {};
#else
    using std::filesystem::perms;
    std::error_code ec;
    const auto p = std::filesystem::status(file, ec).permissions();
    if (ec || p == perms::unknown) return {};
    const bool group = (p & perms::group_read) != perms::none;
    const bool others = (p & perms::others_read) != perms::none;
    if (!group && !others) return {};
    return std::string("readable by ") +
           (group && others ? "group and others"
            : group         ? "group"
                            : "others") +
           " (mode " + mode_text(p) + ")";
#endif
}

bool readable_through_own_group([[maybe_unused]] const std::filesystem::path& file) {
#ifdef _WIN32
    return false;
#else
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || (st.st_mode & S_IRGRP) == 0) return false;
    if (st.st_gid == ::getegid()) return true;
    const int n = ::getgroups(0, nullptr);
    if (n <= 0) return false;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    const int got = ::getgroups(n, groups.data());
    return got > 0 && std::find(groups.begin(), groups.begin() + got, st.st_gid) != groups.begin() + got;
#endif
}

std::string read_token_file(const std::filesystem::path& file, std::string& token) {
    std::string text;
    if (const auto why = read_file(file, text); !why.empty())
        return "cannot read token file " + file.string() + ": " + why;
    if (const auto exposed = secret_exposure(file); !exposed.empty())
        return "token file " + file.string() + " is " + exposed + "; make it readable by its owner only (chmod 600)";
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    std::size_t begin = 0, end = text.size();
    while (begin < end && is_space(text[begin])) ++begin;
    while (end > begin && is_space(text[end - 1])) --end;
    const std::string_view t(text.data() + begin, end - begin);
    if (t.empty()) return "token file " + file.string() + " is empty";
    if (t.size() > max_token)
        return "token file " + file.string() + " holds " + std::to_string(t.size()) + " characters; at most " +
               std::to_string(max_token) + " are allowed";
    for (const char c : t)
        if (c < 0x21 || c > 0x7e)
            return "token file " + file.string() +
                   " holds a space, control or non-ASCII character; a token is one word of printable ASCII";
    if (t.size() < min_token)
        return "token in " + file.string() + " has " + std::to_string(t.size()) + " characters; use at least " +
               std::to_string(min_token) + " (e.g. openssl rand -hex 32)";
    token.assign(t);
    return {};
}

void warn_exposed_keys(const broker_config& c, std::vector<config_error>& warnings) {
    const auto check = [&](const std::string& pointer, const std::filesystem::path& file, const char* what) {
        if (file.empty()) return;
        const auto exposed = secret_exposure(file);
        if (exposed.empty() || (exposed.starts_with("readable by group ") && readable_through_own_group(file))) return;
        warnings.push_back({pointer, what + file.string() + " is " + exposed +
                                         "; only its owner (or a group the broker is in) should read it"});
    };
    // The key's file: private_key, or the certificate file that holds the key (PFX, PEM with
    // the key); and the password's file.
    const auto source = [&](const std::string& at, const certificate_source& s) {
        if (!s.private_key.empty())
            check(at + "/private_key", s.private_key, "private key ");
        else
            check(at + "/certificate", s.certificate, "certificate file (holding the private key) ");
        check(at + "/certificate_password_file", s.password_file, "password file ");
    };
    for (std::size_t i = 0; i < c.listeners.size(); ++i) {
        const auto& t = c.listeners[i].tls;
        const auto at = "/listeners/" + std::to_string(i) + "/tls";
        source(at, t.source());
        for (std::size_t k = 0; k < t.sni.size(); ++k) source(at + "/sni/" + std::to_string(k), t.sni[k].source());
    }
}

}  // namespace tlsbroker::config
