#include "service/options.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <utility>

#include "config/cert_store.hpp"
#include "config/json_reader.hpp"

namespace tlsbroker::service {

namespace {

// One row per option. A mode option selects `what`; any other option belongs to one mode
// and is refused with every other.
struct option_spec {
    const char* name;
    const char* alias;  // nullptr: none
    bool takes_value;
    bool is_mode;
    mode what;              // the mode it selects (is_mode) or the only mode it goes with
    bool empty_ok = false;  // an empty value means "not given" (the MSI passes every property)
};

constexpr std::array<option_spec, 17> specs{{
    {"--config", "-c", true, false, mode::run},
    {"--console", nullptr, false, false, mode::run},
    {"--check-config", "-t", true, true, mode::check_config},
    {"--version", "-V", false, true, mode::version},
    {"--help", "-h", false, true, mode::help},
    {"--write-default-config", nullptr, true, true, mode::write_default_config},
    {"--listen-port", nullptr, true, false, mode::write_default_config},
    {"--backend", nullptr, true, false, mode::write_default_config},
    {"--status-port", nullptr, true, false, mode::write_default_config},
    {"--cert-thumbprint", nullptr, true, false, mode::write_default_config, true},
    {"--cert-subject", nullptr, true, false, mode::write_default_config, true},
    {"--cert-store", nullptr, true, false, mode::write_default_config, true},
    {"--configure-service", nullptr, true, true, mode::configure_service},
    {"--install-commit", nullptr, true, true, mode::install_commit},
    {"--install-rollback", nullptr, true, true, mode::install_rollback},
    {"--grant-key-access", nullptr, true, true, mode::grant_key_access},
    {"--register-key-access-task", nullptr, true, true, mode::register_key_access_task},
}};

const option_spec* find_spec(const std::string& arg) {
    for (const auto& s : specs)
        if (arg == s.name || (s.alias != nullptr && arg == s.alias)) return &s;
    return nullptr;
}

// The argument as it goes into a message: control bytes and non-ASCII as \xNN, at most 80 bytes.
std::string shown(const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < 80; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c >= 0x7F) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    if (s.size() > 80) out += "...";
    return out + "\"";
}

// Digits only (no sign, no space), at most 5 of them; "080" is 80, as the MSI's own check reads it.
std::optional<unsigned> parse_port(const std::string& v) {
    unsigned p = 0;
    if (v.empty() || v.size() > 5) return std::nullopt;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), p);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || p < 1 || p > 65535) return std::nullopt;
    return p;
}

// The --cert-* values as given, checked together once all are read.
struct store_values {
    std::string thumbprint, subject, store;
};

// Sets the option's value into `o`; "" or the problem.
std::string apply(const option_spec& s, const std::string& value, options& o, store_values& cert) {
    const std::string name = s.name;
    if (s.takes_value && value.empty() && !s.empty_ok) return name + " needs a value (got an empty one)";
    if (name == "--config" || name == "--check-config" || name == "--grant-key-access" ||
        name == "--register-key-access-task") {
        o.config = value;
    } else if (name == "--console") {
        o.console = true;
    } else if (name == "--listen-port" || name == "--status-port") {
        if (auto problem = check_port(value); !problem.empty()) return name + " " + problem;
        (name == "--listen-port" ? o.starter.listen_port : o.starter.status_port) = std::to_string(*parse_port(value));
    } else if (name == "--backend") {
        if (auto problem = check_backend(value); !problem.empty()) return name + " " + problem;
        o.starter.backend = value;
    } else if (name == "--cert-thumbprint") {
        cert.thumbprint = value;
    } else if (name == "--cert-subject") {
        cert.subject = value;
    } else if (name == "--cert-store") {
        cert.store = value;
    } else if (s.is_mode && s.takes_value) {
        o.config_dir = value;  // the installer modes
    }
    return {};
}

}  // namespace

std::string check_port(const std::string& value) {
    if (parse_port(value)) return {};
    return "must be an integer in 1..65535 (got " + shown(value) + ")";
}

std::string check_backend(const std::string& value) {
    for (const char c : value)
        if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)) || c == '"' ||
            c == '\'' || c == '\\' || c == '`')
            return "must be host:port without spaces, quotes or backslashes (got " + shown(value) + ")";
    config::endpoint ep;
    if (auto problem = config::parse_endpoint(value, ep, false); !problem.empty())
        return "must be host:port (got " + shown(value) + "): " + problem;
    return {};
}

std::string check_store_certificate(const std::string& thumbprint, const std::string& subject, const std::string& store,
                                    config::store_reference& ref) {
    for (const auto* v : {&thumbprint, &subject, &store})
        for (const char c : *v)
            if (std::iscntrl(static_cast<unsigned char>(c)) || c == '"' || c == '`')
                return std::string(v == &thumbprint ? "--cert-thumbprint"
                                   : v == &subject  ? "--cert-subject"
                                                    : "--cert-store") +
                       " must not hold quotes or control characters (got " + shown(*v) + ")";
    if (!store.empty()) {
        const auto slash = store.find('\\');
        const auto location = store.substr(0, slash);
        const auto name = slash == std::string::npos ? std::string() : store.substr(slash + 1);
        if ((location != "LocalMachine" && location != "CurrentUser") || name.empty() ||
            name.find_first_of("\\/") != std::string::npos)
            return "--cert-store must be LocalMachine\\STORE or CurrentUser\\STORE, for example LocalMachine\\My "
                   "(got " +
                   shown(store) + ")";
        ref.location = location;
        ref.store = name;
    }
    if (!thumbprint.empty() && !subject.empty()) return "--cert-thumbprint and --cert-subject: give one, not both";
    std::string problem;
    if (!thumbprint.empty()) {
        ref.thumbprint = config::normalize_thumbprint(thumbprint, problem);
        if (!problem.empty()) return "--cert-thumbprint " + problem + " (got " + shown(thumbprint) + ")";
    } else if (!subject.empty()) {
        if (config::parse_subject(subject, problem).empty())
            return "--cert-subject " + problem + " (got " + shown(subject) + ")";
        ref.subject = subject;
    }
    return {};
}

std::optional<options> parse_options(const std::vector<std::string>& args, std::string& error) {
    std::vector<std::pair<const option_spec*, std::string>> given;
    const option_spec* selected = nullptr;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const option_spec* s = find_spec(args[i]);
        if (s == nullptr) {
            error = "unknown argument " + shown(args[i]);
            return std::nullopt;
        }
        for (const auto& g : given)
            if (g.first == s) {
                error = std::string(s->name) + " given twice";
                return std::nullopt;
            }
        std::string value;
        if (s->takes_value) {
            if (i + 1 >= args.size()) {
                error = std::string(s->name) + " needs a value";
                return std::nullopt;
            }
            value = args[++i];
            if (find_spec(value) != nullptr) {
                error = std::string(s->name) + " needs a value (got the option " + shown(value) + ")";
                return std::nullopt;
            }
        }
        if (s->is_mode) {
            if (selected != nullptr) {
                error = "one mode per invocation (got " + std::string(selected->name) + " and " + s->name + ")";
                return std::nullopt;
            }
            selected = s;
        }
        given.emplace_back(s, std::move(value));
    }
    options o;
    store_values cert;
    o.what = selected != nullptr ? selected->what : mode::run;
    for (const auto& [s, value] : given) {
        if (!s->is_mode && s->what != o.what) {
            error = std::string(s->name) + " does not go with " +
                    (selected != nullptr ? std::string(selected->name) : std::string("running the broker"));
            return std::nullopt;
        }
        if (auto problem = apply(*s, value, o, cert); !problem.empty()) {
            error = problem;
            return std::nullopt;
        }
    }
    error = check_store_certificate(cert.thumbprint, cert.subject, cert.store, o.starter.certificate_store);
    if (!error.empty()) return std::nullopt;
    return o;
}

const char* usage() {
    return "usage: tlsbroker [--config FILE] [--console]\n"
           "       tlsbroker --check-config FILE\n"
           "       tlsbroker --version\n"
           "\n"
           "  --config FILE        run the broker with this configuration\n"
           "  --check-config FILE  validate FILE, print every problem, exit 0 (valid) or 1\n"
           "  --console            (Windows) run in the console, not as a service\n"
           "  --write-default-config DIR [--listen-port N] [--backend HOST:PORT] [--status-port N]\n"
           "                       write DIR/tlsbroker.json and a self-signed certificate\n"
           "                       unless DIR already has a config (used by the installer);\n"
           "                       ports 1..65535, defaults 8443, 127.0.0.1:9000, 8417\n"
           "       [--cert-thumbprint HEX | --cert-subject DN] [--cert-store LOCATION\\STORE]\n"
           "                       serve a certificate of the Windows store instead (store\n"
           "                       default LocalMachine\\My); empty values are not given\n"
           "  --configure-service DIR, --install-commit DIR, --install-rollback DIR\n"
           "                       (Windows installer) the service's preshutdown timeout from\n"
           "                       DIR's config; keep / remove the config files this install wrote\n"
           "  --grant-key-access FILE\n"
           "                       (Windows) give the service's account read access to the\n"
           "                       private keys of the store certificates FILE names; run it\n"
           "                       as an administrator after a renewal with a new key\n"
           "  --register-key-access-task FILE\n"
           "                       (Windows installer) a scheduled task that runs\n"
           "                       --grant-key-access FILE at each certificate renewal\n"
           "  --version            print the version, the OpenSSL in use and its default key\n"
           "                       exchange groups, and exit\n"
           "\n"
           "One mode per invocation, each option once; anything else is a usage error (exit 2).\n";
}

}  // namespace tlsbroker::service
