// Plain TCP connects for tests that need a bare descriptor (no TLS, no Asio).
#pragma once

#include <cstdint>

namespace tlsbroker::test {

// A blocking connect to 127.0.0.1:port; the descriptor, or -1 when it failed.
int raw_connect(std::uint16_t port);

}  // namespace tlsbroker::test
