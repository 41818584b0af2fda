// Command-line options shared by the foreground mode and the Windows service.
//
// The installer modes run as SYSTEM from the MSI, with values an installing user chose
// (LISTEN_PORT, BACKEND, STATUS_PORT, CERT_THUMBPRINT, CERT_SUBJECT, CERT_STORE), so the parser is strict for every
// mode: one mode per invocation, each option at most once, only the options that belong to that mode, and every value
// checked before anything runs. A usage error is exit code 2 and writes nothing.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "service/default_config.hpp"

namespace tlsbroker::service {

enum class mode {
    run,
    check_config,
    version,
    help,
    write_default_config,
    configure_service,
    install_commit,
    install_rollback,
    grant_key_access,
    register_key_access_task
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
    // --listen-port, --backend, --status-port, and the store certificate: --cert-thumbprint or
    // --cert-subject, in --cert-store (default LocalMachine\My). The MSI passes all of its
    // properties, so an empty --cert-* value means "not given".
    starter_values starter;
};

// Parses argv. On a usage error returns nullopt and fills `error` (one line, naming the argument).
std::optional<options> parse_options(const std::vector<std::string>& args, std::string& error);

// The value checks parse_options() makes, for --listen-port/--status-port and --backend:
// "" or the problem.
std::string check_port(const std::string& value);
std::string check_backend(const std::string& value);
// --cert-thumbprint, --cert-subject, --cert-store ("LocalMachine\My") into `ref`; "" or the
// problem. Empty values are "not given"; a thumbprint and a subject together are refused.
std::string check_store_certificate(const std::string& thumbprint, const std::string& subject, const std::string& store,
                                    config::store_reference& ref);

const char* usage();

}  // namespace tlsbroker::service
