#include "service/windows/start_check.hpp"

#include <set>
#include <vector>

#include "service/windows/acl_policy.hpp"
#include "service/windows/file_security.hpp"
#include "service/windows/service_sid.hpp"

namespace tlsbroker::service {

namespace {

namespace fs = std::filesystem;

struct target {
    fs::path path;
    bool secret;  // a config or a private key: warn when others may read it
};

std::vector<target> targets(const fs::path& config_file, const config::broker_config& cfg) {
    std::vector<target> v{{config_file, true}};
    auto add = [&v](const fs::path& p, bool secret) {
        if (!p.empty()) v.push_back({p, secret});
    };
    for (const auto& l : cfg.listeners) {
        add(l.tls.certificate, false);
        add(l.tls.private_key, true);
        for (const auto& s : l.tls.sni) {
            add(s.certificate, false);
            add(s.private_key, true);
        }
        add(l.tls.client_ca, false);
        add(l.tls.crl, false);
    }
    add(cfg.status.token_file, true);  // bearer tokens: judged as private keys are
    add(cfg.status.reload_token_file, true);
    return v;
}

}  // namespace

file_check check_config_files(const fs::path& config_file, const config::broker_config& cfg) {
    file_check result;
    if (!file_acls_are_real()) {
        result.skipped = true;
        return result;
    }
    const auto svc = service_sid("tlsbroker");
    std::set<fs::path> seen;
    auto check = [&](const fs::path& p, bool folder, bool secret) {
        if (!seen.insert(p).second || result.refused) return;
        std::string error;
        const auto text = read_sddl(p, error);
        const auto d = text ? acl::parse_sddl(*text, error) : std::nullopt;
        if (!d) {
            result.refused = true;
            result.reason = p.string() + ": " + error;
            return;
        }
        const auto f = acl::judge(*d, folder, svc);
        if (f.refuse()) {
            result.refused = true;
            result.reason = p.string() + " is " + f.describe() + "; only SYSTEM and Administrators may change it";
        } else if (secret && f.warn()) {
            result.warnings.push_back(p.string() + " is " + f.describe() +
                                      "; restrict it to SYSTEM, Administrators and NT SERVICE\\tlsbroker");
        }
    };
    for (const auto& t : targets(config_file, cfg)) {
        check(t.path, false, t.secret);
        check(t.path.parent_path(), true, false);
    }
    return result;
}

}  // namespace tlsbroker::service
