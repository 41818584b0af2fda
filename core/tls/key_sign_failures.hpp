// Handshakes whose private key could not sign (a key kept in the Windows certificate store,
// config/external_key.hpp): each failure fails its handshake only, is logged (rate-limited,
// with the signer's reason, e.g. the NCrypt status) and counted in key_sign_failures of the
// broker's total block. A server counts into its block from construction to destruction.
#pragma once

#include "core/common/counters.hpp"

namespace tlsbroker::core {

void count_key_sign_failures(counter_block& total);
// Stops counting into `total` (when it is still the block counted into).
void stop_counting_key_sign_failures(const counter_block& total);

}  // namespace tlsbroker::core
