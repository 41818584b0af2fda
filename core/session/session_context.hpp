// What a session needs from the endpoint that accepted it, built by the listener at accept
// time: the config snapshot, the TLS context, the backends, the relay-buffer pool, the
// counters and the connection's slot. A session takes it and knows nothing of listeners;
// tests build one without a listener (tests/unit/session/session_test.cpp).
#pragma once

#include <functional>
#include <memory>

#include "config/config.hpp"
#include "core/accept/endpoint_admission.hpp"
#include "core/backend/backend_set.hpp"
#include "core/common/counters.hpp"
#include "core/common/histogram.hpp"
#include "core/session/buffer_pool.hpp"
#include "core/session/connection_registry.hpp"
#include "core/tls/tls_context.hpp"

namespace tlsbroker::core {

// Points in a session's life, reported to session_context::observe.
enum class session_event { started, handshake_done, connected, closed };

struct session_context {
    config::config_ptr root;             // keeps *cfg alive
    const config::listener_config* cfg;  // the listener's part of root
    std::shared_ptr<tls_context> tls;
    std::shared_ptr<backend_set> backends;
    buffer_pool* pool;
    counters ctr;
    connection_slot slot;                           // released when the session closes or dies
    std::shared_ptr<connection_registry> registry;  // may be null (tests)
    // Diagnostics and tests: called on the session's strand at each event; may be empty.
    std::function<void(session_event)> observe;
    // The TCP peer is in the listener's trusted_proxies (accept_proxy): it must send a PROXY
    // header, and `slot` has no source yet (the session names it from the header).
    bool from_trusted_proxy = false;
    // Held for the session's life: the listener that accepted it counts its own sessions by
    // this (a replaced listener is freed once they are gone). May be null (tests).
    std::shared_ptr<const void> accepted_by;
    // The listener's latency and size histograms. May be null (tests).
    histogram_block* histograms = nullptr;
};

}  // namespace tlsbroker::core
