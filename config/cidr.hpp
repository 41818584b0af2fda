// trusted_proxies entries: networks in CIDR form, parsed and checked at load time.
#pragma once

#include <string>

#include "config/config.hpp"

namespace tlsbroker::config {

// "10.0.0.0/8", "fd00::/8", "192.0.2.7" (a /32), "::1" (a /128) → `out`; returns an error
// message or "" (an address with bits set past the prefix is refused, naming the network
// that was probably meant).
std::string parse_cidr(const std::string& text, cidr& out);

}  // namespace tlsbroker::config
