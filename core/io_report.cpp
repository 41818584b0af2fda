#include "core/io_report.hpp"

#ifdef _WIN32
#include <boost/asio/detail/select_reactor.hpp>
#endif

namespace tlsbroker::core {

nlohmann::json io_report(boost::asio::io_context& ioc) {
#ifdef _WIN32
    return {{"mechanism", "iocp"},
            {"select_reactor", boost::asio::has_service<boost::asio::detail::select_reactor>(ioc)}};
#else
    (void)ioc;
    return {{"mechanism", "epoll"}, {"select_reactor", false}};
#endif
}

}  // namespace tlsbroker::core
