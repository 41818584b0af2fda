#include "service/options.hpp"

namespace tlsbroker::service {

std::optional<options> parse_options(const std::vector<std::string>& args, std::string& error) {
    options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto take_value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                error = std::string(name) + " needs a value";
                return std::nullopt;
            }
            return args[++i];
        };
        if (a == "--config" || a == "-c") {
            auto v = take_value("--config");
            if (!v) return std::nullopt;
            o.config = *v;
        } else if (a == "--check-config" || a == "-t") {
            auto v = take_value("--check-config");
            if (!v) return std::nullopt;
            o.config = *v;
            o.what = mode::check_config;
        } else if (a == "--version" || a == "-V") {
            o.what = mode::version;
        } else if (a == "--help" || a == "-h") {
            o.what = mode::help;
        } else if (a == "--write-default-config") {
            auto v = take_value("--write-default-config");
            if (!v) return std::nullopt;
            o.config_dir = *v;
            o.what = mode::write_default_config;
        } else if (a == "--configure-service" || a == "--install-commit" || a == "--install-rollback") {
            auto v = take_value(a.c_str());
            if (!v) return std::nullopt;
            o.config_dir = *v;
            o.what = a == "--configure-service" ? mode::configure_service
                     : a == "--install-commit"  ? mode::install_commit
                                                : mode::install_rollback;
        } else if (a == "--listen-port") {
            auto v = take_value("--listen-port");
            if (!v) return std::nullopt;
            o.listen_port = *v;
        } else if (a == "--status-port") {
            auto v = take_value("--status-port");
            if (!v) return std::nullopt;
            o.status_port = *v;
        } else if (a == "--backend") {
            auto v = take_value("--backend");
            if (!v) return std::nullopt;
            o.backend = *v;
        } else if (a == "--console") {
            o.console = true;
        } else {
            error = "unknown argument '" + a + "'";
            return std::nullopt;
        }
    }
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
           "                       unless DIR already has a config (used by the installer)\n"
           "  --configure-service DIR, --install-commit DIR, --install-rollback DIR\n"
           "                       (Windows installer) the service's preshutdown timeout from\n"
           "                       DIR's config; keep / remove the config files this install wrote\n"
           "  --version            print the version, the OpenSSL in use and its default key\n"
           "                       exchange groups, and exit\n";
}

}  // namespace tlsbroker::service
