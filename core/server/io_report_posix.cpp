// The POSIX half of io_report.hpp: epoll, one loop per thread, never a select reactor.
#include "core/server/io_report.hpp"

namespace tlsbroker::core {

nlohmann::json io_report(event_loops& loops) {
    return {{"mechanism", "epoll"}, {"select_reactor", false}, {"event_loops", loops.size()}};
}

}  // namespace tlsbroker::core
