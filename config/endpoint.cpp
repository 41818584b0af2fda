// "host:port" parsing and the checks on hosts and names that the loader shares.
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>

#include "config/json_reader.hpp"

namespace tlsbroker::config {

namespace {

bool valid_label(const std::string& l) {
    if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
    return std::all_of(l.begin(), l.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

bool valid_hostname(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    std::size_t start = 0;
    while (true) {
        const auto dot = h.find('.', start);
        const auto label = h.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        // A single trailing dot (fully qualified) is allowed.
        if (label.empty() && dot == std::string::npos && start != 0) return true;
        if (!valid_label(label)) return false;
        if (dot == std::string::npos) return true;
        start = dot + 1;
    }
}

}  // namespace

bool valid_server_name(const std::string& name) {
    if (name.rfind("*.", 0) == 0) return name.size() > 2 && valid_hostname(name.substr(2));
    return valid_hostname(name);
}

std::string parse_endpoint(const std::string& text, endpoint& out, bool listen) {
    std::string host, port;
    bool bracketed = false;
    if (!text.empty() && text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return "must be \"[ipv6]:port\"";
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        bracketed = true;
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) return "must be \"host:port\"";
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string::npos) return "an IPv6 address must be written in brackets: \"[::1]:port\"";
    }
    const std::string port_range = listen ? "0..65535" : "1..65535";
    unsigned p = 0;
    const auto r = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || p > 65535 || (!listen && p == 0))
        return "port must be an integer in " + port_range + " (got \"" + port + "\")";
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(host, ec);
    if (bracketed && (ec || !addr.is_v6())) return "brackets must hold an IPv6 address (got \"" + host + "\")";
    if (listen) {
        if (host != "*" && ec) return "host must be an IP address or \"*\" (got \"" + host + "\")";
    } else if (ec && !valid_hostname(host)) {
        return "host must be an IP address or a DNS name (got \"" + host + "\")";
    }
    out.host = host == "*" ? "0.0.0.0" : host;
    out.port = static_cast<std::uint16_t>(p);
    out.text = text;
    return {};
}

// IPv6 sockets are bound v6-only, so "::" and "0.0.0.0" cover one family each.
bool endpoints_overlap(const endpoint& a, const endpoint& b) {
    if (a.port == 0 || a.port != b.port) return false;
    boost::system::error_code ea, eb;
    const auto x = boost::asio::ip::make_address(a.host, ea);
    const auto y = boost::asio::ip::make_address(b.host, eb);
    if (ea || eb) return a.host == b.host;
    if (x.is_v4() != y.is_v4()) return false;
    return x == y || x.is_unspecified() || y.is_unspecified();
}

}  // namespace tlsbroker::config
