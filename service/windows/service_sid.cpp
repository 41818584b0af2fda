#include "service/windows/service_sid.hpp"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <vector>

namespace tlsbroker::service {

std::string service_sid(std::string_view name) {
    std::vector<unsigned char> utf16le;
    utf16le.reserve(name.size() * 2);
    for (const char c : name) {
        utf16le.push_back(static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(c))));
        utf16le.push_back(0);
    }
    std::array<unsigned char, 20> digest{};
    unsigned int len = 0;
    EVP_Digest(utf16le.data(), utf16le.size(), digest.data(), &len, EVP_sha1(), nullptr);
    std::string sid = "S-1-5-80";
    for (std::size_t i = 0; i < 5; ++i) {
        const std::uint32_t part =
            static_cast<std::uint32_t>(digest[4 * i]) | static_cast<std::uint32_t>(digest[4 * i + 1]) << 8 |
            static_cast<std::uint32_t>(digest[4 * i + 2]) << 16 | static_cast<std::uint32_t>(digest[4 * i + 3]) << 24;
        sid += "-" + std::to_string(part);
    }
    return sid;
}

}  // namespace tlsbroker::service
