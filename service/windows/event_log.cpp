#include "service/windows/event_log.hpp"

#include <boost/log/expressions.hpp>
#include <boost/log/sinks/event_log_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/make_shared.hpp>

#include "core/log.hpp"

namespace tlsbroker::service {

namespace sinks = boost::log::sinks;
namespace expr = boost::log::expressions;

void enable_event_log() {
    static bool enabled = false;
    if (enabled) return;
    try {
        using backend_t = sinks::simple_event_log_backend;
        auto backend = boost::make_shared<backend_t>(boost::log::keywords::log_source = "tlsbroker",
                                                     boost::log::keywords::registration = sinks::event_log::on_demand);
        sinks::event_log::custom_event_type_mapping<log::level> types(log::severity_attribute);
        types[log::level::warning] = sinks::event_log::warning;
        types[log::level::error] = sinks::event_log::error;
        backend->set_event_type_mapper(types);
        auto sink = boost::make_shared<sinks::synchronous_sink<backend_t>>(backend);
        sink->set_formatter(expr::stream << expr::smessage);
        sink->set_filter(expr::attr<log::level>(log::severity_attribute) >= log::level::warning);
        log::add_sink(sink);
        enabled = true;
    } catch (const std::exception& e) {
        TB_LOG_WARN("event log: cannot add the sink (", e.what(), "); warnings and errors go to the log file only");
    }
}

}  // namespace tlsbroker::service
