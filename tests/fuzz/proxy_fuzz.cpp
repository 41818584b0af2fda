// The PROXY header parser on arbitrary bytes, and build → parse round trips of whatever it
// accepts: no crash, consumed never beyond the input, addresses survive a round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/accept/proxy_protocol.hpp"

using namespace tlsbroker::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto p = parse_proxy_header(input, error);
    if (!p) return 0;
    if (p->consumed == 0 || p->consumed > size) std::abort();
    if (p->local) return 0;
    proxy_info info;
    info.source = p->source;
    info.destination = p->destination;
    info.sni = p->sni;
    info.tls_version = p->tls_version;
    info.cipher = p->cipher;
    info.client_cn = p->client_cn;
    for (const auto v : {proxy_version::v1, proxy_version::v2}) {
        const auto again = parse_proxy_header(build_proxy_header(v, info), error);
        if (!again) std::abort();
        if (again->source != p->source || again->destination != p->destination) std::abort();
    }
    return 0;
}
