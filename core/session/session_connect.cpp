// The session's way to its backend: backends in the order the listener's backend set
// gives, every address of each in turn (a DNS name's come from the set's scheduled lookups), each backend under its
// connect_timeout_ms (a backend that lets it pass counts as failed, and the next one is tried) and the whole walk under
// timeouts.connect_total_ms; then the optional PROXY header, and the one-line connection log at the end.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/ip/tcp.hpp>

#include "core/accept/proxy_protocol.hpp"
#include "core/accept/socket_options.hpp"
#include "core/backend/backend_set.hpp"
#include "core/common/log.hpp"
#include "core/common/log_json.hpp"
#include "core/session/connection_line.hpp"
#include "core/session/session.hpp"
#include "core/tls/peer_identity.hpp"

namespace tlsbroker::core {

namespace {

// Descriptors (the process's or the system's), buffers or memory ran out.
bool out_of_resources(const boost::system::error_code& ec) {
    namespace errc = boost::system::errc;
    return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
           ec == errc::no_buffer_space || ec == errc::not_enough_memory;
}

}  // namespace

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void session::next_backend() {
    auto& c = *connect_;
    if (c.next >= c.order.size()) return finish(close_reason::backend_failed, "no backend accepted the connection");
    c.backend = c.order[c.next++];
    c.addresses.clear();
    c.address = 0;
    const auto attempt = ++c.attempt;
    const auto& b = ctx_.backends->at(c.backend);
    c.backend_deadline = clock::now() + std::chrono::milliseconds(b.connect_timeout_ms);
    phase_deadline_ = std::min(c.backend_deadline, c.walk_deadline);
    arm_timer();
    take_addresses(attempt);
}

// The backend's addresses as the backend set knows them now (no lookup of its own); before
// a name's first lookup has ended, waits for it under the deadline just armed. The wait goes
// with connect_ (or with the session) when the deadline passes or the session ends first.
void session::take_addresses(std::uint64_t attempt) {
    auto& c = *connect_;
    auto found = ctx_.backends->addresses(c.backend, executor(), [w = weak_from_this(), attempt] {
        const auto self = w.lock();
        if (!self || self->phase_ != phase::connecting || self->connect_->attempt != attempt) return;
        self->guarded([&] { self->take_addresses(attempt); });
    });
    c.wait = std::move(found.pending);
    if (!found.ready) return;
    c.addresses = std::move(found.addresses);
    try_address();
}

void session::try_address() {
    auto& c = *connect_;
    if (c.address >= c.addresses.size()) {
        ctx_.backends->report(c.backend, false);
        return next_backend();
    }
    backend_.close();
    const auto ep = c.addresses[c.address++];
    const auto attempt = ++c.attempt;
    // The options go on before the connect: the buffer size then also sets the window scale
    // the SYN offers, and the connected socket needs no more system calls.
    boost::system::error_code ec;
    backend_.socket().open(ep.protocol(), ec);
    if (!ec) ec = apply_socket_options(backend_.socket(), cfg());
    if (ec) {
        backend_.close();
        if (out_of_resources(ec)) ctx_.ctr.set(counter::resources_exhausted_unix_ms, unix_ms_now());  // /healthz
        return finish(close_reason::backend_error, "backend socket: " + ec.message());
    }
    backend_.socket().async_connect(ep, [self = shared_from_this(), ep, attempt](const boost::system::error_code& e) {
        if (self->phase_ != phase::connecting || self->connect_->attempt != attempt) return;
        self->guarded([&] {
            if (e) {
                log::limited(log::level::debug, "backend-connect-address", log::str("backend ", ep, ": ", e.message()));
                return self->try_address();
            }
            self->on_connected();
        });
    });
}

// The deadline of the backend being tried, or of the whole walk, has passed.
void session::on_connect_timeout() {
    auto& c = *connect_;
    ++c.attempt;  // the connect or lookup still pending is stale now
    backend_.close();
    const auto& b = ctx_.backends->at(c.backend);
    const auto now = clock::now();
    if (c.backend_deadline <= now) {
        ctx_.backends->report(c.backend, false);
        log::limited(log::level::warning, log::str(cfg().name, ":backend-timeout:", b.address.text),
                     log::str("listener '", cfg().name, "' backend ", b.address.text, ": no connect within ",
                              b.connect_timeout_ms, " ms (counted as a failure of this backend)"),
                     log::client());
    }
    if (c.walk_deadline <= now)
        return finish(close_reason::backend_failed, "no backend connected within timeouts.connect_total_ms");
    next_backend();
}

void session::on_connected() {
    ctx_.backends->report(connect_->backend, true);
    backend_used_ = ctx_.backends->at(connect_->backend).address.text;
    const auto now = clock::now();
    observe(histogram::backend_connect, micros(now - connect_->started));
    connect_.reset();
    phase_ = phase::relaying;
    notify(session_event::connected);
    phase_deadline_ = clock::time_point::max();
    last_activity_ = now;
    arm_timer();
    queue_proxy_header();
    step(up_);
    step(down_);
}

// The PROXY header goes out first, as pending output of the client-to-backend pump.
void session::queue_proxy_header() {
    const auto mode = cfg().proxy_protocol;
    if (mode == config::proxy_header::none) return;
    proxy_info info;
    info.source = peer_;
    boost::system::error_code ec;
    info.destination = reached_ ? *reached_ : client_.socket().local_endpoint(ec);
    info.tls_version = SSL_get_version(ssl_.get());
    if (const SSL_CIPHER* ci = SSL_get_current_cipher(ssl_.get())) info.cipher = SSL_CIPHER_get_name(ci);
    if (const char* sni = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name)) info.sni = sni;
    const auto id = peer_identity(ssl_.get());
    info.client_cert = id.presented;
    info.client_verified = id.verified;
    info.client_cn = id.common_name;
    const auto header =
        build_proxy_header(mode == config::proxy_header::v1 ? proxy_version::v1 : proxy_version::v2, info);
    up_.buf = (*ctx_.pool).take();
    std::copy(header.begin(), header.end(), up_.buf.get());
    up_.len = header.size();
    up_.off = 0;
}

namespace {

// The client certificate's SHA-256 fingerprint in lower-case hex, as `openssl x509
// -fingerprint -sha256` prints it without the colons.
std::string sha256_hex(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::size_t{2} * n);
    for (unsigned int i = 0; i < n; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 0x0f];
    }
    return out;
}

// The subject as RFC 2253 writes it ("CN=client,O=Site"), characters outside ASCII kept as
// UTF-8 (the line's quoting escapes control characters).
std::string subject_text(X509* cert) {
    BIO* b = BIO_new(BIO_s_mem());
    if (b == nullptr) return {};
    X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    std::string out(data != nullptr && n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string());
    BIO_free(b);
    return out;
}

}  // namespace

// The format is stable (service/README.md, "The connection line"): new keys go at the end.
void session::log_connection(close_reason why, clock::time_point ended, std::string_view reason) const {
    // The line is built only when it is written (log level info or finer).
    if (!cfg().connection_log || !log::enabled(log::level::info)) return;
    const char* sni = ssl_ ? SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name) : nullptr;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended - started_).count();
    // log.format "json": the same keys as members of one JSON object (numbers as numbers,
    // absent values null).
    const bool json = log::json_lines();
    std::string line = "connection";
    log::json_members members;
    if (json) members.add("event", "connection");
    const auto field = [&](std::string_view key, std::string_view value, bool quote = false) {
        if (json)
            members.add(key, value);
        else
            append_log_field(line, key, value, quote);
    };
    const auto number = [&](std::string_view key, std::int64_t value) {
        if (json)
            members.add_number(key, value);
        else
            append_log_field(line, key, std::to_string(value));
    };
    field("listener", cfg().name);
    field("client", log::str(peer_));
    field("sni", sni != nullptr ? sni : "");
    field("backend", backend_used_);
    number("duration_ms", static_cast<std::int64_t>(ms));
    number("bytes_in", static_cast<std::int64_t>(bytes_up_));
    number("bytes_out", static_cast<std::int64_t>(bytes_down_));
    field("end", to_string(why));
    // What TLS was spoken: only for a finished handshake.
    SSL* ssl = ssl_ && SSL_is_init_finished(ssl_.get()) == 1 ? ssl_.get() : nullptr;
    field("tls", ssl != nullptr ? tls_version_text(SSL_version(ssl)) : "");
    const SSL_CIPHER* cipher = ssl != nullptr ? SSL_get_current_cipher(ssl) : nullptr;
    field("cipher", cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "");
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    if (ssl != nullptr) SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    field("alpn", std::string_view(reinterpret_cast<const char*>(alpn), alpn != nullptr ? alpn_len : 0));
    field("resumed", ssl == nullptr ? "" : SSL_session_reused(ssl) == 1 ? "yes" : "no");
    X509* cert = ssl != nullptr ? SSL_get0_peer_certificate(ssl) : nullptr;
    if (cert != nullptr) {
        field("client_cert", subject_text(cert), true);
        field("sha256", sha256_hex(cert));
    } else {
        field("client_cert", "");
        field("sha256", "");
    }
    if (why == close_reason::handshake_failed || why == close_reason::handshake_timeout)
        field("reason", why == close_reason::handshake_timeout ? "timeout" : reason);
    // A per-client line: never the Event Log.
    log::write(log::level::info, json ? std::string_view("connection") : std::string_view(line),
               log::tags{log::event::none, {}, log::origin::client, members.str()});
}

}  // namespace tlsbroker::core
