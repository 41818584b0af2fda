// The session's first step on a listener with accept_proxy: the PROXY header from a
// trusted balancer, read without blocking on the session's strand under the handshake
// deadline (see core/accept/proxy_accept.hpp for the policy). Only the header's bytes are taken:
// whatever followed it in the same read goes back to the channel for TLS.
#include <algorithm>

#include "core/accept/proxy_accept.hpp"
#include "core/common/log.hpp"
#include "core/session/session.hpp"

namespace tlsbroker::core {

void session::read_proxy_header() {
    if (!proxy_bytes_) proxy_bytes_ = std::make_unique<std::string>();
    auto& got = *proxy_bytes_;
    for (;;) {
        // A header usually comes whole in the first segment: one read in the common case.
        char chunk[1536];
        const auto room = std::min(sizeof chunk, max_proxy_header - std::min(got.size(), max_proxy_header));
        bool ended = false;
        if (room == 0) {
            ended = true;  // judged below as too long
        } else {
            const auto r = client_.read(chunk, room);
            switch (r.status) {
                case io_status::ok:
                    got.append(chunk, r.bytes);
                    break;
                case io_status::want_read:
                case io_status::want_write:
                    return wait(side::client, io_status::want_read, nullptr);
                case io_status::eof:
                    if (got.empty())
                        return finish(close_reason::handshake_failed, "client closed before sending anything");
                    ended = true;
                    break;
                case io_status::error:
                    return finish(close_reason::client_error, r.error);
            }
        }
        auto v = judge_proxy_bytes(got, cfg(), ctx_.from_trusted_proxy, ended);
        switch (v.outcome) {
            case proxy_verdict::kind::more:
                if (ended) return refuse_proxy(counter::rejected_proxy_invalid, "PROXY header incomplete");
                continue;
            case proxy_verdict::kind::refused:
                return refuse_proxy(v.refusal, v.why);
            case proxy_verdict::kind::no_header:
                client_.unread(got);
                break;
            case proxy_verdict::kind::header: {
                const auto& h = v.header;
                client_.unread(std::string_view(got).substr(h.consumed));
                // LOCAL (a health check) and an UNSPEC family name no client: the proxy stays the peer.
                const bool names_client = !h.local && !h.source.address().is_unspecified();
                ctx_.ctr.add(names_client ? counter::proxy_headers_ok : counter::proxy_headers_local);
                if (names_client) {
                    TB_LOG_DEBUG("listener '", cfg().name, "' client ", h.source, " via proxy ", peer_);
                    peer_ = h.source;
                    reached_ = h.destination;
                }
                const auto sv = ctx_.slot.name_source(peer_.address());
                if (sv != connection_slot::source_verdict::admitted) {
                    note_source_refusal(ctx_.ctr, cfg(), peer_, sv == connection_slot::source_verdict::too_many);
                    return finish(close_reason::refused, "per-source limit");
                }
                break;
            }
        }
        proxy_bytes_.reset();
        awaiting_proxy_ = false;
        return do_handshake();
    }
}

void session::refuse_proxy(counter why, const std::string& detail) {
    ctx_.ctr.add(why);
    log::limited(log::level::warning, log::str(cfg().name, ":", info(why).key),
                 log::str("listener '", cfg().name, "' refused ", peer_, ": ", detail), log::client());
    finish(close_reason::refused, detail);
}

}  // namespace tlsbroker::core
