#include "core/status/status_access.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cctype>
#include <stdexcept>

namespace tlsbroker::core {

namespace {

bool sha256(std::string_view data, std::array<unsigned char, 32>& out) {
    unsigned int n = 0;
    return EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr) == 1 && n == out.size();
}

// The credentials of "Bearer <token>" (the scheme is case-insensitive, RFC 9110 11.1).
std::optional<std::string_view> bearer_credentials(std::string_view h) {
    constexpr std::string_view scheme = "bearer";
    if (h.size() <= scheme.size() || h[scheme.size()] != ' ') return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(h[i])) != scheme[i]) return std::nullopt;
    h.remove_prefix(scheme.size());
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    return h;
}

}  // namespace

bearer_token::bearer_token(std::string_view token) {
    if (!sha256(token, digest_)) throw std::runtime_error("cannot hash the status token (SHA-256 failed)");
}

bool bearer_token::matches(std::optional<std::string_view> authorization) const {
    const auto presented = authorization ? bearer_credentials(*authorization) : std::nullopt;
    std::array<unsigned char, 32> d{};
    if (!presented || presented->empty() || !sha256(*presented, d)) return false;
    return CRYPTO_memcmp(d.data(), digest_.data(), d.size()) == 0;
}

status_access status_access::from(const config::status_config& c) {
    status_access a;
    a.allowed_hosts = c.allowed_hosts;
    if (!c.token.empty()) a.read_token.emplace(c.token);
    if (!c.reload_token.empty()) a.reload_token.emplace(c.reload_token);
    a.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
    return a;
}

}  // namespace tlsbroker::core
