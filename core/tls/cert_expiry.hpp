// Certificate and CRL facts read from PEM files, and the expiry-warning rule: a warning at
// 30, 14, 7 and 1 days before a certificate expires, once per threshold crossing (a
// certificate first seen with 5 days left warns once, at the 7-day threshold, then once
// more below 1 day). Pure apart from reading files, so it is unit-tested without a server.
#pragma once

#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "config/config.hpp"

namespace tlsbroker::core {

inline constexpr std::array<std::int64_t, 4> expiry_warning_days{30, 14, 7, 1};

// The leaf (first certificate) of a PEM file, or of any certificate source.
struct leaf_facts {
    bool ok = false;
    std::string error;            // why it could not be read, naming the file
    std::int64_t not_before = 0;  // unix seconds
    std::int64_t not_after = 0;   // unix seconds
    std::string sha256;           // "SHA256:AB:…"
    std::string thumbprint;       // SHA-1, 40 upper-case hex digits (the Windows certificate store's name)
    std::string serial;           // upper-case hex
    std::string subject;          // one-line subject ("CN=site.example")
};
leaf_facts read_leaf(const std::filesystem::path& cert);
leaf_facts read_leaf(const config::certificate_source& source);  // PEM, PEM with key, or PKCS#12
leaf_facts leaf_of(const X509* x, const std::filesystem::path& file);

// A PEM CRL.
struct crl_facts {
    bool ok = false;
    std::string error;
    std::int64_t next_update = 0;  // unix seconds; 0 when the CRL has none
    std::size_t revoked = 0;
};
crl_facts read_crl(const std::filesystem::path& crl);

// The tightest threshold (in days) that `seconds_left` has reached: 30, 14, 7, 1; 0 when
// above every threshold; -1 when expired.
std::int64_t threshold_reached(std::int64_t seconds_left);

// Remembers, per certificate (its file and notAfter: a renewed file starts afresh), the
// last threshold warned about.
class expiry_warnings {
public:
    // The threshold to warn about now (30, 14, 7, 1, or -1 for expired), or 0 for nothing.
    std::int64_t check(const std::string& file, std::int64_t not_after, std::int64_t now);
    // Forgets certificates no longer in use.
    void keep_only(const std::map<std::string, std::int64_t>& in_use);

private:
    std::map<std::pair<std::string, std::int64_t>, std::int64_t> warned_;
};

// Whole days until `not_after`, floored at 0 (what the perf counter shows).
std::uint64_t days_left(std::int64_t not_after, std::int64_t now);
// "2026-12-08T14:00:00Z".
std::string format_utc(std::int64_t t);  // t: Unix seconds
std::int64_t unix_now();

}  // namespace tlsbroker::core
