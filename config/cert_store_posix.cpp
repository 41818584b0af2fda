// The certificate store is Windows only (config/cert_store.hpp): a config naming one is refused
// at its JSON pointer, so the same file cannot start with a different certificate on Linux.
#include "config/cert_store.hpp"

namespace tlsbroker::config {

void read_store_credentials(const store_reference&, credentials& out) {
    out.problems.push_back(
        {"certificate_store", "the certificate store is Windows only; use certificate and private_key"});
}

std::string grant_key_read(const store_reference&, const std::string&, std::vector<std::string>&) {
    return "the certificate store is Windows only";
}

std::string current_thumbprint(const store_reference&, std::string& problem) {
    problem = "the certificate store is Windows only";
    return {};
}

}  // namespace tlsbroker::config
