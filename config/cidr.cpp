#include "config/cidr.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace tlsbroker::config {

std::string parse_cidr(const std::string& text, cidr& out) {
    auto usage = "must be an address or a network in CIDR form (\"10.0.0.0/8\", \"fd00::/8\"; got \"" + text + "\")";
    const auto slash = text.find('/');
    const auto host = text.substr(0, slash);
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(host, ec);
    if (ec || (addr.is_v6() && addr.to_v6().scope_id() != 0)) return usage;
    const unsigned max = addr.is_v6() ? 128 : 32;
    unsigned prefix = max;
    if (slash != std::string::npos) {
        const auto digits = text.substr(slash + 1);
        const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return usage;
        if (prefix > max)
            return "prefix length must be 0.." + std::to_string(max) + " for an IPv" + (addr.is_v6() ? "6" : "4") +
                   " network (got \"" + text + "\")";
    }
    cidr c;
    c.text = text;
    c.v6 = addr.is_v6();
    c.prefix = static_cast<std::uint8_t>(prefix);
    if (c.v6) {
        const auto b = addr.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), c.bytes.begin());
    } else {
        const auto b = addr.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), c.bytes.begin());
    }
    // Bits past the prefix must be zero: "10.0.0.1/8" is a typo for a host or for 10.0.0.0/8.
    auto masked = c.bytes;
    for (unsigned i = 0; i < max / 8; ++i) {
        const unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;
        masked[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xFF << (8 - keep));
    }
    if (masked != c.bytes) {
        std::string net;
        if (c.v6) {
            boost::asio::ip::address_v6::bytes_type b{};
            std::copy(masked.begin(), masked.end(), b.begin());
            net = boost::asio::ip::address_v6(b).to_string();
        } else {
            boost::asio::ip::address_v4::bytes_type b{};
            std::copy(masked.begin(), masked.begin() + 4, b.begin());
            net = boost::asio::ip::address_v4(b).to_string();
        }
        return "has address bits set past the /" + std::to_string(prefix) + " prefix (got \"" + text +
               "\"; the network is " + net + "/" + std::to_string(prefix) + ")";
    }
    out = c;
    return {};
}

}  // namespace tlsbroker::config
