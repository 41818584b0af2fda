// The Windows certificate store as a certificate source (`tls.certificate_store`,
// config/README.md):
// - reading the reference from the config, every problem at its JSON pointer;
// - the choice among the store's certificates, a pure function over candidates that tests
//   build from generated certificates on any platform: by thumbprint, that one; by subject,
//   of those with a private key and server authentication in their extended key usage (or no
//   extended key usage), the currently valid one with the latest NotAfter (none valid: the one
//   with the latest NotAfter, which then serves degraded like an expired file);
// - the lookup that fills `credentials` (cert_store_windows.cpp: crypt32 and, for the key,
//   CAPI or CNG export, or for a key that will not export an external key signing through CNG,
//   config/external_key.hpp; cert_store_posix.cpp: an error, the store is Windows only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "config/credentials.hpp"
#include "config/json_reader.hpp"

namespace tlsbroker::config {

// "3a 4f:…" → "3A4F…" (spaces and colons dropped, upper case); "" with `problem` set when
// what is left is not 40 hex digits.
std::string normalize_thumbprint(const std::string& text, std::string& problem);

// The attribute=value pairs of a configured subject ("CN=site01.example, O=Site"; a bare value
// is a CN). Types are OpenSSL's short names ("E" and "EMAIL" become "emailAddress"). Empty
// with `problem` set when a part is empty or names an unknown attribute type.
std::vector<std::pair<std::string, std::string>> parse_subject(const std::string& text, std::string& problem);

// Reads `certificate_store` of a tls or sni object into `out` (left unused when absent).
void read_store_reference(json_object& parent, store_reference& out);

// One certificate of the store, as the choice needs it.
struct store_candidate {
    std::string thumbprint;                                  // SHA-1, 40 upper-case hex digits
    std::vector<std::pair<std::string, std::string>> names;  // subject attributes (short name, UTF-8 value)
    std::string subject;                                     // one line, for messages
    std::int64_t not_before = 0, not_after = 0;              // unix seconds
    bool has_key = false;                                    // the store links a private key to it
    bool server_auth = false;                                // EKU has server authentication, or no EKU
};

// A candidate from a certificate's DER bytes (thumbprint, names, dates, EKU); `has_key` as given.
// nullopt when OpenSSL cannot read the certificate.
std::optional<store_candidate> candidate_from_der(const unsigned char* der, long size, bool has_key);

// Whether `c`'s subject has every attribute of `wanted` (values compared case-insensitively).
bool subject_matches(const store_candidate& c, const std::vector<std::pair<std::string, std::string>>& wanted);

struct store_choice {
    std::optional<std::size_t> index;  // into the candidates
    std::string problem;               // set when there is none
};
store_choice choose_certificate(const std::vector<store_candidate>& all, const store_reference& ref, std::int64_t now);

// The certificates whose keys the service's account must be able to read for `ref`: by
// thumbprint, that one; by subject, every matching one with a private key and server
// authentication, not only today's choice (a renewal already in the store is served next).
std::vector<std::size_t> certificates_to_grant(const std::vector<store_candidate>& all, const store_reference& ref);

// Windows (key_access_windows.cpp): grants the account `sid` ("S-1-5-80-…") read access to the
// private key of each of certificates_to_grant(), as the Certificates console's "Manage Private
// Keys" does (CNG: the key's security descriptor; CAPI: the key container's). One line per key
// into `report`; "" or the problem (the first key that could not be granted).
std::string grant_key_read(const store_reference& ref, const std::string& sid, std::vector<std::string>& report);

// Looks `ref` up and fills leaf, chain and key; problems on the field "certificate_store".
void read_store_credentials(const store_reference& ref, credentials& out);
// The thumbprint `ref` picks now, without touching a key (the certificate watch asks at every
// check); "" with `problem` set when it picks none.
std::string current_thumbprint(const store_reference& ref, std::string& problem);

}  // namespace tlsbroker::config
