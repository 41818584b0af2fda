// The connection log line's fields (service/README.md, "The connection line", is the stable
// format): key=value pairs separated by one space. A value is written bare when it is
// non-empty printable ASCII without a space, '"', '\\' or '='; otherwise in double quotes with
// '"' and '\\' escaped by a backslash and control characters (and DEL) as \xNN. An absent
// value is "-". Pure functions, unit-tested without a session.
#pragma once

#include <string>
#include <string_view>

namespace tlsbroker::core {

// Appends " key=value" (no leading space on an empty line); `quote` quotes even a bare value.
void append_log_field(std::string& line, std::string_view key, std::string_view value, bool quote = false);

// "1.2", "1.3" for a TLS protocol version number (TLS1_2_VERSION, ...); "-" for 0.
std::string tls_version_text(int version);

// An OpenSSL error code in short form: the reason in lower case with '_' for spaces
// ("no_shared_cipher", "unsupported_protocol"), except where the TLS alert says it better
// (SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: "certificate_required"); "system_error" for a
// system error packed by OpenSSL; "unknown" when there is no reason string.
std::string short_tls_reason(unsigned long e);

}  // namespace tlsbroker::core
