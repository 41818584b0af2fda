#include "core/status/status_connection.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <chrono>

#include "core/common/log.hpp"
#include "core/status/status_guard.hpp"

namespace tlsbroker::core {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto io_timeout = 10s;
constexpr auto linger_timeout = 2s;  // reading what is left after an error reply
}  // namespace

http::response<http::string_body> make_response(http_reply r, unsigned version, bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "tlsbroker");
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

http_reply text(unsigned status, std::string body) { return {status, "text/plain; charset=utf-8", std::move(body)}; }

status_connection::status_connection(tcp::socket socket, std::shared_ptr<status_connection_owner> owner)
    : stream_(std::move(socket)), owner_(std::move(owner)) {}

status_connection::~status_connection() { owner_->remove(this); }

void status_connection::run() {
    boost::system::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (ec) return;  // reset before we got here
    // Stopping, or too many connections: the socket just closes.
    if (!owner_->add(this, weak_from_this(), status_source_key(peer.address()))) return;
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&status_connection::do_read, shared_from_this()));
}

void status_connection::close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
        boost::system::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        self->stream_.close();
    });
}

// Waiting for a request (the first, or the next on a kept-alive connection) is bounded by
// the idle timeout; once its first bytes are in, the whole request by io_timeout.
void status_connection::do_read() {
    parser_.emplace();
    parser_->body_limit(body_limit);
    parser_->header_limit(header_limit);
    if (buffer_.size() != 0) return do_read_rest();  // a pipelined request is already here
    const auto idle = owner_->access()->idle_timeout;
    stream_.expires_after(idle);
    stream_.async_read_some(buffer_.prepare(first_read),
                            [self = shared_from_this(), idle](boost::system::error_code ec, std::size_t n) {
                                if (ec == beast::error::timeout) {
                                    self->owner_->count(counter::status_idle_closed);
                                    log::limited(log::level::info, "status:idle",
                                                 log::str("status endpoint: closed a connection that sent no request "
                                                          "for ",
                                                          idle.count(), " ms (status.idle_timeout_ms)"));
                                    return self->finish({});
                                }
                                self->on_first_bytes(ec, n);
                            });
}

void status_connection::on_first_bytes(boost::system::error_code ec, std::size_t n) {
    if (ec) return finish(ec);
    buffer_.commit(n);
    do_read_rest();
}

void status_connection::do_read_rest() {
    stream_.expires_after(io_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&status_connection::on_read, shared_from_this()));
}

void status_connection::on_read(boost::system::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) return reply_error(413, "request body too large\n");
    if (ec == http::error::header_limit) return reply_error(431, "request header too large\n");
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
        return reply_error(400, "bad request\n");
    if (ec) return finish(ec);

    const auto& req = parser_->get();
    const auto header = [&](http::field f) -> std::optional<std::string_view> {
        const auto it = req.find(f);
        if (it == req.end()) return std::nullopt;
        return std::string_view(it->value().data(), it->value().size());
    };
    const auto access = owner_->access();
    if (auto refused =
            check_status_request(header(http::field::origin), header(http::field::host), access->allowed_hosts)) {
        log::limited(log::level::warning, log::str("status:refused:", refused->status),
                     log::str("status endpoint: request refused with ", refused->status, ": ",
                              std::string_view(refused->body).substr(0, refused->body.size() - 1)),
                     log::client());
        owner_->count(refused->status == 403 ? counter::status_refused_origin : counter::status_refused_host);
        res_ = make_response(text(refused->status, std::move(refused->body)), req.version(), false);
        return do_write();
    }
    if (auto refused = owner_->authorize(req, *access)) {
        res_ = make_response(std::move(*refused), req.version(), false);
        if (res_.result_int() == 401) res_.set(http::field::www_authenticate, "Bearer realm=\"tlsbroker status\"");
        return do_write();
    }
    if (owner_->is_reload(req)) return do_reload(req.version(), req.keep_alive());
    res_ = owner_->route(req);
    do_write();
}

// The reload runs on another thread; the reply is written back on this connection's strand.
void status_connection::do_reload(unsigned version, bool keep) {
    auto refused = owner_->start_reload([self = shared_from_this(), version, keep](http_reply r) {
        net::post(self->stream_.get_executor(), [self, version, keep, r = std::move(r)]() mutable {
            self->res_ = make_response(std::move(r), version, keep);
            self->do_write();
        });
    });
    if (!refused) return;
    res_ = make_response(std::move(*refused), version, keep);
    if (res_.result_int() == 429) res_.set(http::field::retry_after, "1");
    do_write();
}

void status_connection::reply_error(unsigned status, std::string body) {
    res_ = make_response(text(status, std::move(body)), 11, false);
    do_write();
}

void status_connection::do_write() {
    stream_.expires_after(io_timeout);
    http::async_write(stream_, res_, beast::bind_front_handler(&status_connection::on_write, shared_from_this()));
}

void status_connection::on_write(boost::system::error_code ec, std::size_t) {
    if (ec) return finish(ec);
    if (res_.keep_alive()) return do_read();
    // Half-close, then read what the client may still send so that closing does not
    // reset the connection before it has read the reply.
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(linger_timeout);
    do_linger();
}

void status_connection::do_linger() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                if (ec) return self->finish({});
                                self->drained_ += n;
                                if (self->drained_ > std::size_t{64} * 1024) return self->finish({});
                                self->do_linger();
                            });
}

void status_connection::finish(boost::system::error_code ec) {
    if (ec && ec != http::error::end_of_stream && ec != net::error::operation_aborted)
        log::limited(log::level::debug, "status:session", log::str("status connection: ", ec.message()));
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
}

}  // namespace tlsbroker::core
