// The status page for people, served at GET / on the status endpoint: one self-contained
// HTML document (inline style and script, no external scripts, fonts or styles, so it works
// on an offline site server) that fetches /status every two seconds and renders it:
// listeners (state, active connections, accept age, recent rates, watchdog outcome),
// backends up or down, certificates and their expiry, the last reload.
//
// The fetch is a same-origin GET, which browsers send without an Origin header, so the
// endpoint's refusal of Origin (403) and of DNS names in Host (421) does not get in its way.
// Everything shown is set with textContent: nothing from /status is parsed as HTML.
// The rendered rows carry data-* attributes (data-listener, data-state, data-active) that
// the browser test reads.
#pragma once

#include <string_view>

namespace tlsbroker::core {

std::string_view status_page_html();
inline constexpr const char* status_page_content_type = "text/html; charset=utf-8";

}  // namespace tlsbroker::core
