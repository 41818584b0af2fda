#include "service/windows/event_log.hpp"

#include <windows.h>

#include <boost/log/expressions.hpp>
#include <boost/log/sinks/async_frontend.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/make_shared.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "config/utf16_windows.hpp"
#include "core/common/log.hpp"

namespace tlsbroker::service {

namespace sinks = boost::log::sinks;
namespace expr = boost::log::expressions;

namespace {

// The message ID as ReportEventW takes it: the severity in the top two bits, as windmc
// builds it from messages.mc (Informational 1, Warning 2, Error 3).
DWORD full_id(std::uint16_t id, log::level l) {
    const DWORD sev = l >= log::level::error ? 3u : l == log::level::warning ? 2u : 1u;
    return (sev << 30) | id;
}

WORD event_type(log::level l) {
    if (l >= log::level::error) return EVENTLOG_ERROR_TYPE;
    if (l == log::level::warning) return EVENTLOG_WARNING_TYPE;
    return EVENTLOG_INFORMATION_TYPE;
}

// A Boost.Log backend that reports a record as one event of the source "tlsbroker":
// - a record with an event type: its message ID, category and insertion strings
//   (core/common/log_event.hpp, messages.mc);
// - a warning or error with no event type: the generic ID 2 or 3, the line as %1;
// - nothing for a per-client record or a detail line (log::origin) or an info line with no type.
class event_log_backend : public sinks::basic_sink_backend<sinks::concurrent_feeding> {
public:
    explicit event_log_backend(HANDLE source) : source_(source) {}
    ~event_log_backend() { DeregisterEventSource(source_); }
    event_log_backend(const event_log_backend&) = delete;
    event_log_backend& operator=(const event_log_backend&) = delete;

    void consume(const boost::log::record_view& rec) {
        const auto from = boost::log::extract<log::origin>(log::origin_attribute, rec);
        if (from && *from != log::origin::broker) return;  // per-client or a detail line
        const auto lvl = boost::log::extract<log::level>(log::severity_attribute, rec);
        const auto type = boost::log::extract<log::event>(log::event_attribute, rec);
        const auto* info = type ? log::find(*type) : nullptr;
        if (info != nullptr) {
            const auto strings = boost::log::extract<std::vector<std::string>>(log::event_strings_attribute, rec);
            std::vector<std::wstring> wide;
            if (strings)
                for (const auto& s : *strings) wide.push_back(config::widen_utf8(s));
            std::vector<LPCWSTR> ptrs;
            for (const auto& w : wide) ptrs.push_back(w.c_str());
            ReportEventW(source_, event_type(info->severity), static_cast<WORD>(info->cat),
                         full_id(static_cast<std::uint16_t>(info->type), info->severity), nullptr,
                         static_cast<WORD>(ptrs.size()), 0, ptrs.empty() ? nullptr : ptrs.data(), nullptr);
            return;
        }
        const auto l = lvl ? *lvl : log::level::info;
        if (l < log::level::warning) return;
        const auto text = boost::log::extract<std::string>("Message", rec);
        const std::wstring line = config::widen_utf8(text ? *text : std::string());
        LPCWSTR strings[] = {line.c_str()};
        const auto id = l >= log::level::error ? log::generic_error_id : log::generic_warning_id;
        ReportEventW(source_, event_type(l), static_cast<WORD>(log::category::general), full_id(id, l), nullptr, 1, 0,
                     strings, nullptr);
    }

private:
    HANDLE source_;
};

}  // namespace

void enable_event_log() {
    static bool enabled = false;
    if (enabled) return;
    // The installer registers the source (EventMessageFile = tlsbroker.exe); an unregistered
    // source still logs, Event Viewer then shows the raw insertion string.
    HANDLE source = RegisterEventSourceW(nullptr, L"tlsbroker");
    if (source == nullptr) {
        TB_LOG_WARN("event log: cannot register the source (error ", GetLastError(),
                    "); warnings and errors go to the log file only");
        return;
    }
    try {
        // Asynchronous: ReportEventW runs on the sink's own thread, never on an I/O thread (under
        // Wine, events reported from the threads that serve connections were followed by a
        // relay failing: tests/windows/run-wine-tests.sh, step 2). log::shutdown() flushes it.
        auto sink = boost::make_shared<sinks::asynchronous_sink<event_log_backend>>(
            boost::make_shared<event_log_backend>(source));
        // Warnings and errors, and info records with an event type (service started, listener
        // bound); consume() drops per-client records and detail lines.
        sink->set_filter(expr::attr<log::level>(log::severity_attribute) >= log::level::warning ||
                         expr::has_attr<log::event>(log::event_attribute));
        log::add_sink(sink);
        enabled = true;
    } catch (const std::exception& e) {
        TB_LOG_WARN("event log: cannot add the sink (", e.what(), "); warnings and errors go to the log file only");
    }
}

}  // namespace tlsbroker::service
