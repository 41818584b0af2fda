// The Windows half of io_report.hpp: the completion port, and whether Asio started its select
// reactor on any event loop (io_report.hpp says when it would).
#include <boost/asio/detail/select_reactor.hpp>

#include "core/server/io_report.hpp"

namespace tlsbroker::core {

nlohmann::json io_report(event_loops& loops) {
    bool select_reactor = false;
    for (std::size_t i = 0; i < loops.size(); ++i)
        select_reactor = select_reactor || boost::asio::has_service<boost::asio::detail::select_reactor>(loops.at(i));
    return {{"mechanism", "iocp"}, {"select_reactor", select_reactor}, {"event_loops", loops.size()}};
}

}  // namespace tlsbroker::core
