// The client certificate's identity, for logs and the PROXY header. Names are taken as
// UTF-8 (BMPString and UniversalString converted), and a name that could mislead whoever
// reads it is left out, with the reason in `problem`: a commonName with a NUL or a control
// character, several commonNames, or a SAN with a NUL or a control character.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

namespace tlsbroker::core {

struct client_identity {
    bool presented = false;
    bool verified = false;
    std::string subject;            // one line, non-printable bytes as \xNN
    std::string common_name;        // empty when absent or refused
    std::vector<std::string> sans;  // "DNS:…", "IP:…", "email:…", "URI:…"
    std::string problem;            // why a name was refused; empty when none was
};

// The identity in `cert` (which the caller keeps).
client_identity identity_of(X509* cert, bool verified);

// The identity of the peer's certificate on `ssl` (presented = false when there is none).
client_identity peer_identity(SSL* ssl);

}  // namespace tlsbroker::core
