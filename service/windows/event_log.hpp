// Warnings and errors to the Windows Event Log (source "tlsbroker", Application log), through
// a Boost.Log sink calling ReportEventW. The message table (messages.mc: event 2 warning, 3 error) is
// linked into the exe so Event Viewer shows the text.
#pragma once

namespace tlsbroker::service {

// Adds the sink (idempotent). Failure is logged and never fatal.
void enable_event_log();

}  // namespace tlsbroker::service
