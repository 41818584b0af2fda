#include "proxy_header.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace echo {

namespace {

constexpr unsigned char v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t v1_max = 107;

proxy_parse invalid(std::string why) {
    proxy_parse p;
    p.status = proxy_status::invalid;
    p.error = std::move(why);
    return p;
}

std::string ip_text(int af, const unsigned char* addr, std::uint16_t port) {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(af, addr, buf, sizeof buf);
    const std::string host = af == AF_INET6 ? "[" + std::string(buf) + "]" : std::string(buf);
    return host + ":" + std::to_string(port);
}

bool valid_ip(int af, const std::string& text) {
    unsigned char out[16];
    return ::inet_pton(af, text.c_str(), out) == 1;
}

bool valid_port(const std::string& text) {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
    for (const char c : text)
        if (c < '0' || c > '9') return false;
    return std::stoul(text) <= 65535;
}

proxy_parse parse_v1(const unsigned char* data, std::size_t n) {
    const char* text = reinterpret_cast<const char*>(data);
    const void* lf = std::memchr(text, '\n', std::min(n, v1_max));
    if (!lf) {
        if (n >= v1_max) return invalid("v1 header longer than 107 bytes");
        return {};
    }
    const auto len = static_cast<std::size_t>(static_cast<const char*>(lf) - text) + 1;
    if (len < 2 || text[len - 2] != '\r') return invalid("v1 header not ended by CRLF");
    std::vector<std::string> parts;
    std::string cur;
    for (std::size_t i = 0; i < len - 2; ++i) {
        if (text[i] == ' ') {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += text[i];
        }
    }
    parts.push_back(cur);
    proxy_parse p;
    p.status = proxy_status::done;
    p.consumed = len;
    p.info.version = 1;
    if (parts.size() >= 2 && parts[1] == "UNKNOWN") {
        p.info.family = "unknown";
        return p;
    }
    if (parts.size() != 6) return invalid("v1 header needs 6 fields");
    const int af = parts[1] == "TCP4" ? AF_INET : parts[1] == "TCP6" ? AF_INET6 : -1;
    if (af < 0) return invalid("v1 protocol is not TCP4, TCP6 or UNKNOWN");
    if (!valid_ip(af, parts[2]) || !valid_ip(af, parts[3])) return invalid("v1 bad address");
    if (!valid_port(parts[4]) || !valid_port(parts[5])) return invalid("v1 bad port");
    p.info.family = af == AF_INET ? "tcp4" : "tcp6";
    const auto host = [af](const std::string& a) { return af == AF_INET6 ? "[" + a + "]" : a; };
    p.info.src = host(parts[2]) + ":" + parts[4];
    p.info.dst = host(parts[3]) + ":" + parts[5];
    return p;
}

std::uint16_t be16(const unsigned char* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

proxy_parse parse_v2(const unsigned char* data, std::size_t n) {
    if (n < 16) return {};
    const int ver = data[12] >> 4, cmd = data[12] & 0x0F;
    if (ver != 2) return invalid("v2 version nibble is not 2");
    if (cmd > 1) return invalid("v2 command is neither LOCAL nor PROXY");
    const std::size_t len = be16(data + 14);
    if (n < 16 + len) return {};
    const unsigned char* body = data + 16;
    proxy_parse p;
    p.status = proxy_status::done;
    p.consumed = 16 + len;
    p.info.version = 2;
    p.info.local = cmd == 0;
    std::size_t addr_len = 0;
    switch (data[13] >> 4) {
        case 0:
            p.info.family = "unknown";
            break;
        case 1:
            p.info.family = "4", addr_len = 12;
            break;
        case 2:
            p.info.family = "6", addr_len = 36;
            break;
        case 3:
            p.info.family = "unix", addr_len = 216;
            break;
        default:
            return invalid("v2 unknown address family");
    }
    const int proto = data[13] & 0x0F;
    if (proto > 2) return invalid("v2 unknown transport protocol");
    if (p.info.family == "4" || p.info.family == "6") p.info.family = (proto == 2 ? "udp" : "tcp") + p.info.family;
    if (p.info.local) addr_len = std::min(addr_len, len);
    if (len < addr_len) return invalid("v2 address block longer than the header");
    if (!p.info.local && addr_len == 12) {
        p.info.src = ip_text(AF_INET, body, be16(body + 8));
        p.info.dst = ip_text(AF_INET, body + 4, be16(body + 10));
    } else if (!p.info.local && addr_len == 36) {
        p.info.src = ip_text(AF_INET6, body, be16(body + 32));
        p.info.dst = ip_text(AF_INET6, body + 16, be16(body + 34));
    } else if (!p.info.local && addr_len == 216) {
        p.info.src.assign(reinterpret_cast<const char*>(body), strnlen(reinterpret_cast<const char*>(body), 108));
        p.info.dst.assign(reinterpret_cast<const char*>(body + 108),
                          strnlen(reinterpret_cast<const char*>(body + 108), 108));
    }
    for (std::size_t off = addr_len; off < len;) {
        if (len - off < 3) return invalid("v2 truncated TLV");
        const std::size_t vlen = be16(body + off + 1);
        if (len - off - 3 < vlen) return invalid("v2 TLV longer than the header");
        p.info.tlvs.push_back({body[off], std::string(reinterpret_cast<const char*>(body + off + 3), vlen)});
        off += 3 + vlen;
    }
    return p;
}

std::string quote(const std::string& s) {
    std::string q = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            q += '\\';
            q += c;
        } else if (u < 0x20 || u >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            q += buf;
        } else {
            q += c;
        }
    }
    return q + "\"";
}

std::string hex(const std::string& s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (const char c : s) {
        out += digits[static_cast<unsigned char>(c) >> 4];
        out += digits[static_cast<unsigned char>(c) & 15];
    }
    return out;
}

bool printable(const std::string& s) {
    for (const char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
    return true;
}

const char* tlv_name(std::uint8_t type, bool ssl_sub) {
    if (ssl_sub) {
        switch (type) {
            case 0x21:
                return "ssl_version";
            case 0x22:
                return "ssl_cn";
            case 0x23:
                return "ssl_cipher";
            case 0x24:
                return "ssl_sig_alg";
            case 0x25:
                return "ssl_key_alg";
            default:
                return "unknown";
        }
    }
    switch (type) {
        case 0x01:
            return "alpn";
        case 0x02:
            return "authority";
        case 0x03:
            return "crc32c";
        case 0x04:
            return "noop";
        case 0x05:
            return "unique_id";
        case 0x20:
            return "ssl";
        case 0x30:
            return "netns";
        default:
            return type >= 0xE0 ? "custom" : "unknown";
    }
}

std::string tlv_list(const std::vector<proxy_tlv>& tlvs, bool ssl_sub);

std::string tlv_json(const proxy_tlv& t, bool ssl_sub) {
    std::string s = "{\"type\": " + std::to_string(t.type) + ", \"name\": \"" + tlv_name(t.type, ssl_sub) +
                    "\", \"hex\": \"" + hex(t.value) + "\"";
    if (printable(t.value)) s += ", \"value\": " + quote(t.value);
    if (!ssl_sub && t.type == 0x20 && t.value.size() >= 5) {
        const auto* v = reinterpret_cast<const unsigned char*>(t.value.data());
        const std::uint32_t verify = (std::uint32_t{v[1]} << 24) | (v[2] << 16) | (v[3] << 8) | v[4];
        std::vector<proxy_tlv> subs;
        bool ok = true;
        for (std::size_t off = 5; off < t.value.size();) {
            if (t.value.size() - off < 3) {
                ok = false;
                break;
            }
            const std::size_t len = be16(v + off + 1);
            if (t.value.size() - off - 3 < len) {
                ok = false;
                break;
            }
            subs.push_back({v[off], t.value.substr(off + 3, len)});
            off += 3 + len;
        }
        s += ", \"client\": " + std::to_string(v[0]) + ", \"verify\": " + std::to_string(verify);
        s += ok ? ", \"tlvs\": " + tlv_list(subs, true) : std::string(", \"error\": \"bad sub-TLVs\"");
    }
    return s + "}";
}

std::string tlv_list(const std::vector<proxy_tlv>& tlvs, bool ssl_sub) {
    std::string s = "[";
    for (std::size_t i = 0; i < tlvs.size(); ++i) s += (i ? ", " : "") + tlv_json(tlvs[i], ssl_sub);
    return s + "]";
}

}  // namespace

proxy_parse parse_proxy_header(const unsigned char* data, std::size_t n) {
    const std::size_t sig = std::min(n, sizeof v2_signature);
    if (std::memcmp(data, v2_signature, sig) == 0) {
        return n < sizeof v2_signature ? proxy_parse{} : parse_v2(data, n);
    }
    const std::size_t pre = std::min<std::size_t>(n, 6);
    if (std::memcmp(data, "PROXY ", pre) == 0) return parse_v1(data, n);
    return invalid("no PROXY header");
}

std::string proxy_json_fields(const proxy_info& info) {
    std::string s = "{\"version\": " + std::to_string(info.version) + ", \"command\": \"" +
                    (info.local ? "LOCAL" : "PROXY") + "\", \"family\": " + quote(info.family);
    if (!info.src.empty()) s += ", \"src\": " + quote(info.src);
    if (!info.dst.empty()) s += ", \"dst\": " + quote(info.dst);
    s += ", \"tlvs\": " + tlv_list(info.tlvs, false);
    return s;
}

}  // namespace echo
