// Reading a PROXY header from the balancer in front of the broker (listeners[].accept_proxy).
//
// Where it happens: not at accept. The listener only accepts and takes the connection slot;
// the header is read by the session, on its strand, with non-blocking reads before the TLS
// handshake, under the same timeouts.handshake_ms deadline. Bytes read past the header (the
// start of the ClientHello, when both came in one segment) are handed back to the client
// channel, so TLS sees the stream exactly as the client sent it.
//
// Who may send one: only sources in trusted_proxies, and they must. A connection from any
// other source is served as a direct client, but one that starts with a PROXY signature is
// refused (it would be lying about its address).
//
// Per-source limits: a direct client is admitted against its own address at accept, as
// always. A connection from a trusted proxy takes only the connection slot at accept; it is
// admitted against the address in the header once that is read (the balancer's own address
// would otherwise hit the per-source limit for every client behind it). A LOCAL header (a
// balancer's health check) keeps the proxy's own address, everywhere.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/accept/proxy_protocol.hpp"
#include "core/common/counters.hpp"

namespace tlsbroker::core {

// Counts and logs (rate-limited) a connection refused by max_connections_per_source
// (`too_many`) or by the per-source rate.
void note_source_refusal(counters& c, const config::listener_config& cfg, const boost::asio::ip::tcp::endpoint& who,
                         bool too_many);

// accept_proxy is not "none".
bool accepts_proxy(const config::listener_config& cfg);
// `a` lies in one of cfg.trusted_proxies (an IPv4-mapped IPv6 address matches as IPv4).
bool trusted_proxy(const config::listener_config& cfg, const boost::asio::ip::address& a);

// What the bytes read so far from a new connection amount to.
struct proxy_verdict {
    enum class kind {
        more,       // undecided: read more
        header,     // a header the listener accepts; `header.consumed` bytes are it
        no_header,  // a direct client: every byte belongs to TLS
        refused,    // close the connection; `why` and `refusal` say why
    } outcome = kind::more;
    parsed_proxy header;
    counter refusal = counter::rejected_proxy_invalid;
    std::string why;
};

// The longest header read: a v2 header with the largest length field.
inline constexpr std::size_t max_proxy_header = 16 + 65535;

// Decides on `data`, the first bytes of a connection from a `trusted` source or not (pure;
// the fuzzed parse_proxy_header does the parsing). `ended`: the client closed after these.
proxy_verdict judge_proxy_bytes(std::string_view data, const config::listener_config& cfg, bool trusted, bool ended);

}  // namespace tlsbroker::core
