// Certificates made at test time (nothing secret is ever committed).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tlsbroker::test {

// A fresh, unique folder under the system temp folder.
std::filesystem::path make_temp_dir(std::string_view tag);

struct cert_files {
    std::filesystem::path cert, key;
};
enum class key_type { ecdsa_p256, rsa2048 };

// Self-signed server certificate: SAN DNS:<cn>, DNS:localhost, IP:127.0.0.1, IP:::1.
cert_files make_self_signed(const std::filesystem::path& dir, std::string_view name = "server",
                            std::string_view cn = "localhost", key_type kt = key_type::ecdsa_p256);

struct ca_files {
    std::filesystem::path cert, key;
};
ca_files make_ca(const std::filesystem::path& dir, std::string_view name = "ca");
// A leaf signed by `ca`: a server certificate, or a client one when `client` is true.
cert_files make_leaf(const ca_files& ca, const std::filesystem::path& dir, std::string_view name,
                     std::string_view cn, bool client = false, std::vector<std::string> dns_sans = {});

void write_file(const std::filesystem::path& p, std::string_view text);

}  // namespace tlsbroker::test
