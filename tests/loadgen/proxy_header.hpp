// PROXY protocol header parsing (v1 text, v2 binary) for the echo backend, and its JSON
// description. Pure functions: bytes in, result out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace echo {

struct proxy_tlv {
    std::uint8_t type = 0;
    std::string value;
};

struct proxy_info {
    int version = 0;              // 1 or 2
    bool local = false;           // v2 LOCAL command (health checks): no addresses
    std::string family;           // "tcp4", "tcp6", "udp4", "udp6", "unix", "unknown"
    std::string src, dst;         // "addr:port" ("[v6]:port"), or the unix path
    std::vector<proxy_tlv> tlvs;  // v2 only, in header order
};

enum class proxy_status { need_more, done, invalid };

struct proxy_parse {
    proxy_status status = proxy_status::need_more;
    std::size_t consumed = 0;  // header length when done
    proxy_info info;
    std::string error;  // when invalid
};

// Parses the header at the start of `data`; need_more while it may still be incomplete.
proxy_parse parse_proxy_header(const unsigned char* data, std::size_t n);

// {"version":2,"command":"PROXY","family":"tcp4","src":..,"dst":..,"tlvs":[..]} without
// the closing brace, so that the caller can add fields. TLVs carry type, name, hex, and
// value when printable; the SSL TLV (0x20) its client bits, verify result and sub-TLVs.
std::string proxy_json_fields(const proxy_info& info);

}  // namespace echo
