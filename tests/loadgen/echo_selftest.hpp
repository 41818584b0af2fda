// tlsbroker-echo --selftest: the echo backend against blocking loopback clients: byte-exact
// echo with half-close, PROXY v1 and v2 (TLVs, LOCAL, split header, a bad header) and
// --max-connections. Prints one line per check; returns the exit code.
#pragma once

namespace echo {

int run_selftest();

}  // namespace echo
