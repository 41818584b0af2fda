// The SCM setting that neither wixl's ServiceInstall nor `sc` can make: the PRESHUTDOWN
// timeout. At system shutdown the service drains in its PRESHUTDOWN notification, which
// Windows waits for up to this timeout (ordinary SHUTDOWN gets about 20 s, less than the
// default 30 s drain). The installer sets it to the config's longest drain + 5 s
// (`tlsbroker.exe --configure-service DIR`); the service warns at start when a later config
// change made the drain longer than that.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "config/config.hpp"

namespace tlsbroker::service {

inline constexpr std::uint32_t preshutdown_margin_ms = 5000;

// The longest timeouts.drain_ms of the config's listeners (each drains on its own clock).
std::uint32_t longest_drain_ms(const config::broker_config& cfg);

// Sets the PRESHUTDOWN timeout of the installed service "tlsbroker" from DIR/tlsbroker.json's
// longest drain (the default drain when the file is missing or invalid). "" or the problem.
std::string configure_installed_service(const std::filesystem::path& config_dir, std::ostream& out);

// The PRESHUTDOWN timeout the SCM holds for "tlsbroker"; nullopt when it cannot be read.
std::optional<std::uint32_t> preshutdown_timeout_ms();

}  // namespace tlsbroker::service
