// Command-line options shared by the foreground mode and the Windows service.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tlsbroker::service {

enum class mode {
    run,
    check_config,
    version,
    help,
    write_default_config,
    configure_service,
    install_commit,
    install_rollback
};

struct options {
    mode what = mode::run;
    std::filesystem::path config;  // empty: the platform default
    bool console = false;          // Windows: run in the console even when started by the SCM
    // --write-default-config DIR: a starter config (and a self-signed certificate) unless
    // DIR already has a config; the installer runs it.
    // The installer's other steps on DIR (Windows): --configure-service (SCM settings after the
    // service is created), --install-commit / --install-rollback (keep or remove what this
    // install wrote into DIR).
    std::filesystem::path config_dir;
    std::string listen_port = "8443";
    std::string backend = "127.0.0.1:9000";
    std::string status_port = "9100";
};

// Parses argv. On a usage error returns nullopt and fills `error`.
std::optional<options> parse_options(const std::vector<std::string>& args, std::string& error);

const char* usage();

}  // namespace tlsbroker::service
