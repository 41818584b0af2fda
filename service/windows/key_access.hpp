// `tlsbroker.exe --grant-key-access CONFIG` (the MSI runs it when given CERT_THUMBPRINT or
// CERT_SUBJECT; an administrator runs it after a renewal): the service's account gets read
// access to the private key of every store certificate the config names (config/cert_store.hpp,
// certificates_to_grant), so that the service, which runs as NT SERVICE\tlsbroker, can sign
// with it. The account is the installed service's (SCM), else NT SERVICE\tlsbroker. When a
// grant changed something and the service runs, it is asked to reload (PARAMCHANGE): the
// certificate watch does not try a refused certificate again until it changes.
#pragma once

#include <filesystem>
#include <ostream>

namespace tlsbroker::service {

// Prints one line per key to `out`, problems to `err`. Returns the exit code: 0 when every
// key was granted (or there is nothing to grant), 1 otherwise.
int grant_key_access(const std::filesystem::path& config, std::ostream& out, std::ostream& err);

}  // namespace tlsbroker::service
