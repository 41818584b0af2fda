// PROXY protocol v1 and v2 headers sent to the backend before any client byte, so a legacy
// server still sees the real client address; v2 also carries the TLS details as TLVs.
// The parser is used by the tests' backends and the fuzzer.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tlsbroker::core {

enum class proxy_version { none, v1, v2 };

// The 12 bytes every PROXY v2 header starts with.
inline constexpr std::array<unsigned char, 12> proxy_v2_signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

struct proxy_info {
    boost::asio::ip::tcp::endpoint source;       // the client
    boost::asio::ip::tcp::endpoint destination;  // the listener's address the client reached
    std::string tls_version;                     // "TLSv1.3"
    std::string cipher;                          // "TLS_AES_128_GCM_SHA256"
    std::string sni;                             // server name the client asked for
    std::string client_cn;                       // client certificate's common name (mTLS)
    bool client_cert = false;                    // a client certificate was presented
    bool client_verified = false;                // ... and verified
};

std::string build_proxy_v1(const proxy_info& p);
std::string build_proxy_v2(const proxy_info& p);
std::string build_proxy_header(proxy_version v, const proxy_info& p);

// What a backend reads back. `consumed` is the header's length in the input.
struct parsed_proxy {
    proxy_version version = proxy_version::none;
    bool local = false;  // v2 LOCAL command / v1 UNKNOWN: no addresses
    boost::asio::ip::tcp::endpoint source;
    boost::asio::ip::tcp::endpoint destination;
    std::string tls_version, cipher, sni, client_cn;
    bool tls = false;
    bool client_cert = false;
    bool client_verified = false;
    std::size_t consumed = 0;
};

// Parses a complete header at the start of `data`. nullopt with `error` set when it is
// malformed; nullopt with `error` empty when more bytes are needed.
std::optional<parsed_proxy> parse_proxy_header(std::string_view data, std::string& error);

}  // namespace tlsbroker::core
