#include "service/options.hpp"

namespace tlsbroker::service {

std::optional<options> parse_options(const std::vector<std::string>& args, std::string& error) {
    options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto take_value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                error = std::string(name) + " needs a file name";
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
           "  --version            print the version and exit\n";
}

}  // namespace tlsbroker::service
