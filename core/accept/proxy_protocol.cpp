#include "core/accept/proxy_protocol.hpp"

#include <array>
#include <charconv>
#include <cstring>

namespace tlsbroker::core {

namespace {

constexpr unsigned char pp2_type_authority = 0x02;
constexpr unsigned char pp2_type_ssl = 0x20;
constexpr unsigned char pp2_subtype_ssl_version = 0x21;
constexpr unsigned char pp2_subtype_ssl_cn = 0x22;
constexpr unsigned char pp2_subtype_ssl_cipher = 0x23;
constexpr unsigned char pp2_client_ssl = 0x01;
constexpr unsigned char pp2_client_cert_conn = 0x02;
constexpr std::size_t max_tlv_value = 255;  // keep every TLV small and bounded

void put16(std::string& s, std::size_t v) {
    s.push_back(static_cast<char>((v >> 8) & 0xFF));
    s.push_back(static_cast<char>(v & 0xFF));
}

void put_tlv(std::string& s, unsigned char type, std::string_view value) {
    value = value.substr(0, max_tlv_value);
    s.push_back(static_cast<char>(type));
    put16(s, value.size());
    s.append(value);
}

std::size_t get16(std::string_view s, std::size_t at) {
    return (static_cast<std::size_t>(static_cast<unsigned char>(s[at])) << 8) | static_cast<unsigned char>(s[at + 1]);
}

bool same_family(const proxy_info& p) { return p.source.address().is_v4() == p.destination.address().is_v4(); }

}  // namespace

std::string build_proxy_v1(const proxy_info& p) {
    if (!same_family(p)) return "PROXY UNKNOWN\r\n";
    std::string s = p.source.address().is_v4() ? "PROXY TCP4 " : "PROXY TCP6 ";
    s += p.source.address().to_string() + ' ' + p.destination.address().to_string() + ' ' +
         std::to_string(p.source.port()) + ' ' + std::to_string(p.destination.port()) + "\r\n";
    return s;
}

std::string build_proxy_v2(const proxy_info& p) {
    std::string body;
    unsigned char family = 0x00;  // UNSPEC
    if (same_family(p) && p.source.address().is_v4()) {
        family = 0x11;  // TCP over IPv4
        const auto a = p.source.address().to_v4().to_bytes();
        const auto b = p.destination.address().to_v4().to_bytes();
        body.append(reinterpret_cast<const char*>(a.data()), a.size());
        body.append(reinterpret_cast<const char*>(b.data()), b.size());
        put16(body, p.source.port());
        put16(body, p.destination.port());
    } else if (same_family(p)) {
        family = 0x21;  // TCP over IPv6
        const auto a = p.source.address().to_v6().to_bytes();
        const auto b = p.destination.address().to_v6().to_bytes();
        body.append(reinterpret_cast<const char*>(a.data()), a.size());
        body.append(reinterpret_cast<const char*>(b.data()), b.size());
        put16(body, p.source.port());
        put16(body, p.destination.port());
    }
    if (!p.sni.empty()) put_tlv(body, pp2_type_authority, p.sni);
    std::string ssl;
    unsigned char client = pp2_client_ssl;
    if (p.client_cert) client |= pp2_client_cert_conn;
    ssl.push_back(static_cast<char>(client));
    const std::uint32_t verify = (p.client_cert && !p.client_verified) ? 1 : 0;
    for (int shift : {24, 16, 8, 0}) ssl.push_back(static_cast<char>((verify >> shift) & 0xFF));
    if (!p.tls_version.empty()) put_tlv(ssl, pp2_subtype_ssl_version, p.tls_version);
    if (!p.cipher.empty()) put_tlv(ssl, pp2_subtype_ssl_cipher, p.cipher);
    if (!p.client_cn.empty()) put_tlv(ssl, pp2_subtype_ssl_cn, p.client_cn);
    body.push_back(static_cast<char>(pp2_type_ssl));
    put16(body, ssl.size());
    body += ssl;

    std::string s(reinterpret_cast<const char*>(proxy_v2_signature.data()), proxy_v2_signature.size());
    s.push_back(static_cast<char>(0x21));  // version 2, PROXY command
    s.push_back(static_cast<char>(family));
    put16(s, body.size());
    return s + body;
}

std::string build_proxy_header(proxy_version v, const proxy_info& p) {
    switch (v) {
        case proxy_version::v1:
            return build_proxy_v1(p);
        case proxy_version::v2:
            return build_proxy_v2(p);
        case proxy_version::none:
            break;
    }
    return {};
}

namespace {

std::optional<parsed_proxy> parse_v1(std::string_view data, std::string& error) {
    const auto end = data.find("\r\n");
    if (end == std::string_view::npos) {
        if (data.size() >= 107) error = "v1 header longer than 107 bytes";
        return std::nullopt;
    }
    if (end + 2 > 107) {
        error = "v1 header longer than 107 bytes";
        return std::nullopt;
    }
    std::string_view line = data.substr(0, end);
    parsed_proxy r;
    r.version = proxy_version::v1;
    r.consumed = end + 2;
    std::array<std::string_view, 6> f{};
    std::size_t n = 0;
    while (!line.empty() && n < f.size()) {
        const auto sp = line.find(' ');
        f[n++] = line.substr(0, sp);
        line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    if (n >= 2 && f[1] == "UNKNOWN") {
        r.local = true;
        return r;
    }
    if (n != 6 || !line.empty() || (f[1] != "TCP4" && f[1] != "TCP6")) {
        error = "v1 header malformed";
        return std::nullopt;
    }
    boost::system::error_code e1, e2;
    const auto src = boost::asio::ip::make_address(std::string(f[2]), e1);
    const auto dst = boost::asio::ip::make_address(std::string(f[3]), e2);
    unsigned sp = 0, dp = 0;
    const auto r1 = std::from_chars(f[4].data(), f[4].data() + f[4].size(), sp);
    const auto r2 = std::from_chars(f[5].data(), f[5].data() + f[5].size(), dp);
    if (e1 || e2 || r1.ec != std::errc() || r2.ec != std::errc() || r1.ptr != f[4].data() + f[4].size() ||
        r2.ptr != f[5].data() + f[5].size() || sp > 65535 || dp > 65535 || src.is_v4() != (f[1] == "TCP4") ||
        dst.is_v4() != (f[1] == "TCP4") || (src.is_v6() && src.to_v6().scope_id() != 0) ||
        (dst.is_v6() && dst.to_v6().scope_id() != 0)) {
        error = "v1 addresses or ports malformed";
        return std::nullopt;
    }
    r.source = {src, static_cast<std::uint16_t>(sp)};
    r.destination = {dst, static_cast<std::uint16_t>(dp)};
    return r;
}

bool parse_tlvs(std::string_view t, parsed_proxy& r, bool in_ssl, std::string& error) {
    std::size_t i = 0;
    while (i < t.size()) {
        if (t.size() - i < 3) return error = "v2 TLV truncated", false;
        const auto type = static_cast<unsigned char>(t[i]);
        const auto len = get16(t, i + 1);
        if (t.size() - i - 3 < len) return error = "v2 TLV length beyond header", false;
        const auto v = t.substr(i + 3, len);
        if (!in_ssl && type == pp2_type_authority) r.sni = std::string(v);
        if (!in_ssl && type == pp2_type_ssl) {
            if (v.size() < 5) return error = "v2 SSL TLV too short", false;
            r.tls = true;
            const auto client = static_cast<unsigned char>(v[0]);
            r.client_cert = (client & pp2_client_cert_conn) != 0;
            const bool verify_ok = v[1] == 0 && v[2] == 0 && v[3] == 0 && v[4] == 0;
            r.client_verified = r.client_cert && verify_ok;
            if (!parse_tlvs(v.substr(5), r, true, error)) return false;
        }
        if (in_ssl && type == pp2_subtype_ssl_version) r.tls_version = std::string(v);
        if (in_ssl && type == pp2_subtype_ssl_cipher) r.cipher = std::string(v);
        if (in_ssl && type == pp2_subtype_ssl_cn) r.client_cn = std::string(v);
        i += 3 + len;
    }
    return true;
}

std::optional<parsed_proxy> parse_v2(std::string_view data, std::string& error) {
    if (data.size() < 16) return std::nullopt;
    const auto ver_cmd = static_cast<unsigned char>(data[12]);
    const auto fam = static_cast<unsigned char>(data[13]);
    const auto len = get16(data, 14);
    if ((ver_cmd >> 4) != 2 || (ver_cmd & 0x0F) > 1) {
        error = "v2 version or command invalid";
        return std::nullopt;
    }
    if (data.size() < 16 + len) return std::nullopt;
    parsed_proxy r;
    r.version = proxy_version::v2;
    r.consumed = 16 + len;
    r.local = (ver_cmd & 0x0F) == 0;
    std::string_view body = data.substr(16, len);
    std::size_t addr_len = 0;
    if (fam == 0x11)
        addr_len = 12;
    else if (fam == 0x21)
        addr_len = 36;
    else if (fam != 0x00) {
        error = "v2 address family unsupported";
        return std::nullopt;
    }
    if (body.size() < addr_len) {
        error = "v2 addresses truncated";
        return std::nullopt;
    }
    if (addr_len == 12) {
        boost::asio::ip::address_v4::bytes_type a{}, b{};
        std::memcpy(a.data(), body.data(), 4);
        std::memcpy(b.data(), body.data() + 4, 4);
        r.source = {boost::asio::ip::address_v4(a), static_cast<std::uint16_t>(get16(body, 8))};
        r.destination = {boost::asio::ip::address_v4(b), static_cast<std::uint16_t>(get16(body, 10))};
    } else if (addr_len == 36) {
        boost::asio::ip::address_v6::bytes_type a{}, b{};
        std::memcpy(a.data(), body.data(), 16);
        std::memcpy(b.data(), body.data() + 16, 16);
        r.source = {boost::asio::ip::address_v6(a), static_cast<std::uint16_t>(get16(body, 32))};
        r.destination = {boost::asio::ip::address_v6(b), static_cast<std::uint16_t>(get16(body, 34))};
    }
    if (!parse_tlvs(body.substr(addr_len), r, false, error)) return std::nullopt;
    return r;
}

}  // namespace

std::optional<parsed_proxy> parse_proxy_header(std::string_view data, std::string& error) {
    error.clear();
    const auto sig =
        std::string_view(reinterpret_cast<const char*>(proxy_v2_signature.data()), proxy_v2_signature.size());
    if (!data.empty() && data[0] == '\r') {
        if (data.size() < sig.size()) return std::nullopt;
        if (data.substr(0, sig.size()) != sig) {
            error = "not a PROXY header";
            return std::nullopt;
        }
        return parse_v2(data, error);
    }
    const std::string_view v1 = "PROXY ";
    const auto k = std::min(data.size(), v1.size());
    if (data.substr(0, k) != v1.substr(0, k)) {
        error = "not a PROXY header";
        return std::nullopt;
    }
    if (data.size() < v1.size()) return std::nullopt;
    return parse_v1(data, error);
}

}  // namespace tlsbroker::core
