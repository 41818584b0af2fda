// Which mechanism serves the sockets, for /status: on Linux epoll readiness; on Windows the
// I/O completion port, where "select_reactor" must stay false on every event loop (Asio
// starts a select() thread over every waiting socket the first time anything waits for
// readiness). "event_loops": how many loops (one per I/O thread) share the connections.
#pragma once

#include <nlohmann/json.hpp>

#include "core/common/event_loops.hpp"

namespace tlsbroker::core {

nlohmann::json io_report(event_loops& loops);

}  // namespace tlsbroker::core
