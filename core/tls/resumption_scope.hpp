// Where a TLS session may be resumed. A session is bound to the listener that made it and to
// the client-auth policy that admitted its client: the verify mode, the depth, and the
// contents of the client CA and CRL files. Any of them changing (another listener, a new
// client CA, a refreshed CRL, a reload that changes verification) gives another scope, and a
// session or ticket from the old one is refused: the client makes a full handshake, under
// the policy in force now. An unchanged reload keeps the scope, so resumption survives it.
//
// The scope is the session-id context of every SSL_CTX of the listener (OpenSSL refuses a
// cached session or a ticket whose context differs), and it selects the listener's ticket
// key store (ticket_keys::for_scope), so a ticket sealed for one scope cannot even be opened
// in another.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "config/config.hpp"

namespace tlsbroker::core {

// SHA-256 of what the scope is made of; SSL_MAX_SID_CTX_LENGTH is 32.
using resumption_scope = std::array<std::uint8_t, 32>;
static_assert(std::tuple_size_v<resumption_scope> <= SSL_MAX_SID_CTX_LENGTH);

// Throws std::runtime_error naming the file when client_ca or crl cannot be read.
resumption_scope scope_for(std::string_view listener_name, const config::tls_config& cfg);

}  // namespace tlsbroker::core
