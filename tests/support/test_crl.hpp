// A CRL signed by a test CA, revoking the given certificates.
#pragma once

#include <chrono>
#include <filesystem>
#include <vector>

namespace tlsbroker::test {

// Writes a PEM CRL to `out`, issued by the CA (cert + key files), revoking `revoked`, with
// its nextUpdate `next_update` from now.
void make_crl(const std::filesystem::path& ca_cert, const std::filesystem::path& ca_key,
              const std::vector<std::filesystem::path>& revoked, const std::filesystem::path& out,
              std::chrono::seconds next_update = std::chrono::hours(24 * 30));

}  // namespace tlsbroker::test
