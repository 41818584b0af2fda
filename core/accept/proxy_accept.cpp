#include "core/accept/proxy_accept.hpp"

#include <algorithm>
#include <array>

#include "core/common/log.hpp"

namespace tlsbroker::core {

namespace {

constexpr std::string_view v1_signature = "PROXY ";

enum class signature { none, partial, v1, v2 };

// Whether `data` starts with (or is the start of) a PROXY v1 or v2 signature.
signature match_signature(std::string_view data) {
    const std::string_view v2(reinterpret_cast<const char*>(proxy_v2_signature.data()), proxy_v2_signature.size());
    for (const auto& [sig, full] : {std::pair{v1_signature, signature::v1}, std::pair{v2, signature::v2}}) {
        const auto k = std::min(data.size(), sig.size());
        if (data.substr(0, k) != sig.substr(0, k)) continue;
        return k == sig.size() ? full : signature::partial;
    }
    return signature::none;
}

bool in_network(const config::cidr& n, const std::array<unsigned char, 16>& bytes, bool v6) {
    if (n.v6 != v6) return false;
    unsigned left = n.prefix;
    for (std::size_t i = 0; left > 0; ++i) {
        const unsigned bits = std::min(left, 8u);
        const auto mask = static_cast<unsigned char>(0xFF << (8 - bits));
        if ((bytes[i] & mask) != (n.bytes[i] & mask)) return false;
        left -= bits;
    }
    return true;
}

proxy_verdict refuse(counter c, std::string why) {
    proxy_verdict v;
    v.outcome = proxy_verdict::kind::refused;
    v.refusal = c;
    v.why = std::move(why);
    return v;
}

}  // namespace

void note_source_refusal(counters& c, const config::listener_config& cfg, const boost::asio::ip::tcp::endpoint& who,
                         bool too_many) {
    c.add(too_many ? counter::rejected_source_limit : counter::rejected_source_rate);
    log::limited(log::level::warning, cfg.name + (too_many ? ":source-limit" : ":source-rate"),
                 log::str("listener '", cfg.name, "' refused ", who, ": ",
                          too_many ? "max_connections_per_source reached" : "per-source connection rate exceeded"),
                 log::client());
}

bool accepts_proxy(const config::listener_config& cfg) { return cfg.accept_proxy != config::accept_proxy_mode::none; }

bool trusted_proxy(const config::listener_config& cfg, const boost::asio::ip::address& a) {
    std::array<unsigned char, 16> bytes{};
    bool v6 = a.is_v6();
    if (v6 && a.to_v6().is_v4_mapped()) {
        const auto b = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).to_bytes();
        std::copy(b.begin(), b.end(), bytes.begin());
        v6 = false;
    } else if (v6) {
        const auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), bytes.begin());
    } else {
        const auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), bytes.begin());
    }
    return std::any_of(cfg.trusted_proxies.begin(), cfg.trusted_proxies.end(),
                       [&](const auto& n) { return in_network(n, bytes, v6); });
}

proxy_verdict judge_proxy_bytes(std::string_view data, const config::listener_config& cfg, bool trusted, bool ended) {
    const auto sig = match_signature(data);
    if (!trusted) {
        // A direct client: anything but a PROXY signature is its TLS stream.
        if (sig == signature::v1 || sig == signature::v2)
            return refuse(counter::rejected_proxy_untrusted, "sent a PROXY header but is not in trusted_proxies");
        if (sig == signature::none || ended) return {proxy_verdict::kind::no_header, {}, {}, {}};
        return {};
    }
    if (sig == signature::none)
        return refuse(counter::rejected_proxy_missing, "is a trusted proxy but sent no PROXY header (accept_proxy " +
                                                           std::string(config::to_string(cfg.accept_proxy)) + ")");
    std::string error;
    auto parsed = parse_proxy_header(data, error);
    if (!parsed) {
        if (!error.empty()) return refuse(counter::rejected_proxy_invalid, "PROXY header malformed: " + error);
        if (ended)
            return refuse(counter::rejected_proxy_invalid, "PROXY header truncated (the connection ended after " +
                                                               std::to_string(data.size()) + " bytes)");
        if (data.size() >= max_proxy_header) return refuse(counter::rejected_proxy_invalid, "PROXY header too long");
        return {};
    }
    const bool v1 = parsed->version == proxy_version::v1;
    const auto want = cfg.accept_proxy;
    if (want != config::accept_proxy_mode::any &&
        want != (v1 ? config::accept_proxy_mode::v1 : config::accept_proxy_mode::v2))
        return refuse(counter::rejected_proxy_invalid, std::string("sent a PROXY ") + (v1 ? "v1" : "v2") +
                                                           " header; accept_proxy is " +
                                                           std::string(config::to_string(want)));
    proxy_verdict v;
    v.outcome = proxy_verdict::kind::header;
    v.header = std::move(*parsed);
    return v;
}

}  // namespace tlsbroker::core
