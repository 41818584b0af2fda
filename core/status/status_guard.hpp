// Who may drive the status endpoint. Any web page open in a browser on the host can send
// requests to 127.0.0.1, so the endpoint refuses what only a browser would send:
// - a request with an Origin header (browsers send it on cross-origin requests and on
//   every POST): 403;
// - a Host that is neither an IP address, "localhost" nor a name in status.allowed_hosts,
//   with or without a port: a page whose own name was made to resolve to 127.0.0.1 (DNS
//   rebinding) sends its name: 421. The names an operator lists are the broker's own (its
//   DNS records are not the attacker's), so listing them opens no such door.
// Monitoring agents and load balancers send neither. Status connections are also counted
// per source (every loopback address as one source), so that one local user cannot take
// every connection the endpoint allows.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tlsbroker::core {

struct guard_refusal {
    unsigned status;
    std::string body;
};

// `origin` / `host`: the header values, or nullopt when the request has none.
// `allowed_hosts`: lower-case names, each "name" (any port, or none) or "name:port".
std::optional<guard_refusal> check_status_request(std::optional<std::string_view> origin,
                                                  std::optional<std::string_view> host,
                                                  std::span<const std::string> allowed_hosts = {});

// The key under which status connections from `a` are counted.
std::string status_source_key(const boost::asio::ip::address& a);

}  // namespace tlsbroker::core
