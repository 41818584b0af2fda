#include "core/server/io_report.hpp"

#ifdef _WIN32
#include <boost/asio/detail/select_reactor.hpp>
#endif

namespace tlsbroker::core {

nlohmann::json io_report(event_loops& loops) {
    bool select_reactor = false;
#ifdef _WIN32
    for (std::size_t i = 0; i < loops.size(); ++i)
        select_reactor = select_reactor || boost::asio::has_service<boost::asio::detail::select_reactor>(loops.at(i));
    return {{"mechanism", "iocp"}, {"select_reactor", select_reactor}, {"event_loops", loops.size()}};
#else
    return {{"mechanism", "epoll"}, {"select_reactor", select_reactor}, {"event_loops", loops.size()}};
#endif
}

}  // namespace tlsbroker::core
