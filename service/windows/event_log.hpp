// Warnings and errors to the Windows Event Log (source "tlsbroker"), through Boost.Log's
// event log sink; its message table is linked into the exe so Event Viewer shows the text.
#pragma once

namespace tlsbroker::service {

// Adds the sink (idempotent). Failure is logged and never fatal.
void enable_event_log();

}  // namespace tlsbroker::service
