// Certificates made at test time (nothing secret is ever committed).
#pragma once

#include <openssl/x509.h>

#include <chrono>
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

// How long test certificates stay valid unless asked otherwise: beyond every expiry
// warning threshold (30 days), so an ordinary test broker warns about nothing.
inline constexpr std::chrono::seconds default_validity{std::chrono::hours(24 * 365)};

// Self-signed server certificate: SAN DNS:<cn>, DNS:localhost, IP:127.0.0.1, IP:::1, with a
// random serial, valid from an hour ago until `valid_for` from now (negative: already expired).
cert_files make_self_signed(const std::filesystem::path& dir, std::string_view name = "server",
                            std::string_view cn = "localhost", key_type kt = key_type::ecdsa_p256,
                            std::chrono::seconds valid_for = default_validity);
// Re-signs the self-signed certificate of `f` (with its key) to become valid only `in` from now.
void make_not_yet_valid(const cert_files& f, std::chrono::seconds in);
// The certificate's serial number in upper-case hex, as the client sees it.
std::string serial_hex(X509* cert);
std::string serial_hex(const std::filesystem::path& cert_file);

struct ca_files {
    std::filesystem::path cert, key;
};
ca_files make_ca(const std::filesystem::path& dir, std::string_view name = "ca");
// A leaf signed by `ca`: a server certificate, or a client one when `client` is true.
cert_files make_leaf(const ca_files& ca, const std::filesystem::path& dir, std::string_view name, std::string_view cn,
                     bool client = false, std::vector<std::string> dns_sans = {});

// A PKCS#12 (PFX) file at `out` with `leaf`'s certificate, its key (unless `with_key` is
// false) and the certificates of `chain`, protected by `password` ("" for none); mode 0600.
// Made with OpenSSL's API at test time (PKCS12_create's defaults: AES-256, PBKDF2, SHA-256 MAC).
void make_pfx(const cert_files& leaf, const std::filesystem::path& out, std::string_view password = "",
              const std::vector<std::filesystem::path>& chain = {}, bool with_key = true);
// One PEM file at `out`: `leaf`'s key, its certificate, then the files of `chain`; mode 0600.
void make_combined_pem(const cert_files& leaf, const std::filesystem::path& out,
                       const std::vector<std::filesystem::path>& chain = {});

void write_file(const std::filesystem::path& p, std::string_view text);
// The whole file ("" when it cannot be read).
std::string read_file_text(const std::filesystem::path& p);
// Like an ACME client: writes a temporary file beside `target`, then renames it over.
void replace_file(const std::filesystem::path& target, std::string_view content);

}  // namespace tlsbroker::test
