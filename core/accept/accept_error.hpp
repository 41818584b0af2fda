// One pure function decides what the listener does after a failed accept. It is the only
// place that knows error numbers; POSIX and Windows codes sit side by side so both
// platforms are unit-tested on either.
#pragma once

#include <boost/system/error_code.hpp>

namespace tlsbroker::core {

enum class accept_error_class {
    connection,  // the peer's problem (reset, aborted …): count, accept again at once
    resource,    // out of fds, buffers, memory: count, back off, accept again
    listener,    // the listening socket itself is broken: close it and make a new one
    cancelled,   // the accept was cancelled (shutdown, or a watchdog re-arm)
    unknown,     // anything else: treated like a resource error (never spin, never stop)
};

enum class accept_action {
    retry_now,          // arm the next accept immediately
    back_off,           // arm it after the back-off delay
    recreate_listener,  // close and re-create the listening socket (with back-off)
    stop,               // shutting down: do nothing more
};

struct accept_decision {
    accept_error_class error_class;
    accept_action action;
};

enum class os_family { posix, windows };

// `code` is an errno value (posix) or a Winsock / Win32 error (windows).
accept_decision classify_accept_error(int code, os_family family, bool shutting_down);

// The same for an error_code from Asio on the platform this was built for.
accept_decision classify_accept_error(const boost::system::error_code& ec, bool shutting_down);

const char* to_string(accept_error_class c);

}  // namespace tlsbroker::core
