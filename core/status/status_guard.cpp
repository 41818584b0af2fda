#include "core/status/status_guard.hpp"

#include <algorithm>
#include <cctype>

namespace tlsbroker::core {

namespace {

// "host", "host:port", "[v6]" or "[v6]:port" → host (without brackets).
std::string_view host_part(std::string_view h) {
    if (!h.empty() && h.front() == '[') {
        const auto close = h.find(']');
        return close == std::string_view::npos ? h : h.substr(1, close - 1);
    }
    const auto colon = h.find(':');
    return colon == std::string_view::npos ? h : h.substr(0, colon);
}

// `h` equals the lower-case `name`, ignoring the case of `h`.
bool equals_folded(std::string_view h, std::string_view name) {
    return h.size() == name.size() && std::equal(h.begin(), h.end(), name.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

bool is_allowed(std::string_view host, std::string_view name, std::span<const std::string> allowed) {
    return std::ranges::any_of(allowed, [&](const std::string& a) {
        return equals_folded(a.find(':') == std::string::npos ? name : host, a);
    });
}

}  // namespace

std::optional<guard_refusal> check_status_request(std::optional<std::string_view> origin,
                                                  std::optional<std::string_view> host,
                                                  std::span<const std::string> allowed_hosts) {
    if (origin) return guard_refusal{403, "requests from web pages (with an Origin header) are refused\n"};
    if (!host) return std::nullopt;  // HTTP/1.0 without Host: no browser sends that
    const auto h = host_part(*host);
    if (equals_folded(h, "localhost") || is_allowed(*host, h, allowed_hosts)) return std::nullopt;
    boost::system::error_code ec;
    boost::asio::ip::make_address(std::string(h), ec);
    if (!ec) return std::nullopt;
    return guard_refusal{421, "Host must be an IP address, localhost or a name in status.allowed_hosts\n"};
}

std::string status_source_key(const boost::asio::ip::address& a) {
    if (a.is_loopback()) return "loopback";
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        const auto v4 = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
        return v4.is_loopback() ? "loopback" : v4.to_string();
    }
    return a.to_string();
}

}  // namespace tlsbroker::core
