// Entry point: parses the command line, then hands over to the platform's way of running
// (foreground on POSIX; SCM service or console on Windows).
#include <iostream>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "core/tls/openssl_memory.hpp"
#include "core/tls/tls_context.hpp"
#include "service/default_config.hpp"
#include "service/options.hpp"
#include "service/platform.hpp"
#include "service/windows/install_record.hpp"
#include "version.hpp"
#ifdef _WIN32
#include "service/windows/install_folder.hpp"
#include "service/windows/key_access.hpp"
#include "service/windows/key_access_task.hpp"
#include "service/windows/secure_install.hpp"
#include "service/windows/service_config.hpp"
#endif

namespace {

int check_config(const std::filesystem::path& file) {
    const auto result = tlsbroker::config::load_file(file);
    for (const auto& w : result.warnings) std::cerr << file.string() << ": warning: " << w.to_string() << '\n';
    if (result.ok()) {
        std::cout << file.string() << ": configuration is valid (" << result.config->listeners.size() << " listener"
                  << (result.config->listeners.size() == 1 ? "" : "s") << ")\n";
        return 0;
    }
    std::cerr << file.string() << ": " << result.errors.size() << " problem" << (result.errors.size() == 1 ? "" : "s")
              << ":\n";
    for (const auto& e : result.errors) std::cerr << "  " << e.to_string() << '\n';
    return 1;
}

// The installer's steps after the config step run as SYSTEM on DIR too: never through a
// junction or symbolic link, nor in a folder someone else owns. "" or the problem.
std::string check_installer_dir([[maybe_unused]] const std::filesystem::path& dir) {
#ifdef _WIN32
    return tlsbroker::service::check_existing_folder(dir);
#else
    return {};
#endif
}

}  // namespace

int main(int argc, char** argv) {
    using namespace tlsbroker::service;
#ifdef _WIN32
    // First, before OpenSSL allocates anything: its record buffers from a cache of size
    // classes instead of a heap walk per allocation (core/tls/openssl_memory.hpp).
    if (!tlsbroker::core::install_openssl_buffer_cache())
        std::cerr << "tlsbroker: OpenSSL's buffer cache could not be installed; using the heap\n";
#endif
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string error;
    const auto opts = parse_options(args, error);
    if (!opts) {
        std::cerr << "tlsbroker: " << error << "\n\n" << usage();
        return 2;
    }
    switch (opts->what) {
        case mode::version:
            // The OpenSSL this binary runs with (linked statically on Windows, the system's on
            // Linux) and the key exchange groups it offers when tls.groups is not set.
            std::cout << "tlsbroker " << TLSBROKER_VERSION << '\n'
                      << tlsbroker::core::openssl_version_text() << '\n'
                      << "default tls.groups: " << tlsbroker::core::default_tls_groups() << '\n';
            return 0;
        case mode::help:
            std::cout << usage();
            return 0;
        case mode::check_config:
            return check_config(opts->config);
        case mode::write_default_config: {
#ifdef _WIN32
            // Also locks the folder down (owner, protected DACL) before writing into it.
            const auto problem = install_config_dir(opts->config_dir, opts->starter, std::cout);
#else
            const auto problem = write_default_config(opts->config_dir, opts->starter);
#endif
            if (!problem.empty()) std::cerr << "tlsbroker: " << problem << '\n';
            return problem.empty() ? 0 : 1;
        }
        case mode::grant_key_access:
#ifdef _WIN32
            return tlsbroker::service::grant_key_access(opts->config, std::cout, std::cerr);
#else
            std::cerr << "tlsbroker: --grant-key-access is for the Windows certificate store\n";
            return 2;
#endif
        case mode::register_key_access_task:
#ifdef _WIN32
            return tlsbroker::service::register_key_access_task(opts->config.string(), std::cout, std::cerr);
#else
            std::cerr << "tlsbroker: --register-key-access-task is for the Windows certificate store\n";
            return 2;
#endif
        case mode::configure_service: {
#ifdef _WIN32
            auto problem = check_installer_dir(opts->config_dir);
            if (problem.empty()) problem = configure_installed_service(opts->config_dir, std::cout);
            if (!problem.empty()) std::cerr << "tlsbroker: " << problem << '\n';
            return problem.empty() ? 0 : 1;
#else
            std::cerr << "tlsbroker: --configure-service is for the Windows service\n";
            return 2;
#endif
        }
        case mode::install_commit:
        case mode::install_rollback: {
            if (const auto problem = check_installer_dir(opts->config_dir); !problem.empty()) {
                std::cerr << "tlsbroker: " << problem << '\n';
                return 1;
            }
            if (opts->what == mode::install_commit) {
                commit_install(opts->config_dir);
                return 0;
            }
            for (const auto& name : roll_back_install(opts->config_dir))
                std::cout << "rollback: removed " << (opts->config_dir / name).string() << '\n';
            return 0;
        }
        case mode::run:
            break;
    }
    return run_platform(*opts);
}
