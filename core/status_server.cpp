#include "status_server.hpp"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "core/accept_error.hpp"
#include "core/backoff.hpp"
#include "core/log.hpp"

namespace tlsbroker::core {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t body_limit = 8 * 1024;
constexpr std::size_t header_limit = 8 * 1024;
constexpr auto io_timeout = 10s;
constexpr auto linger_timeout = 2s;       // reading what is left after an error reply
constexpr std::size_t max_sessions = 64;  // status connections open at once; more are closed

// How many handler calls the current thread is inside (lets stop() run from a handler).
thread_local int handler_depth = 0;

class session;

// The endpoint's state; status_server::impl is this under the name the header declares.
struct endpoint_core : std::enable_shared_from_this<endpoint_core> {
    endpoint_core(net::io_context& ioc, status_handlers h)
        : ioc_(ioc),
          strand_(net::make_strand(ioc)),
          acceptor_(strand_),
          timer_(strand_),
          handlers_(std::move(h)) {}

    void open(const tcp::endpoint& ep, boost::system::error_code& ec);
    void do_accept();
    void on_accept(boost::system::error_code ec, tcp::socket socket);
    void schedule_retry(std::chrono::milliseconds delay, bool reopen);
    void on_retry(bool reopen);
    void stop();

    // Sessions register themselves; stop() closes whatever is registered.
    bool add(session* s, const std::weak_ptr<session>& w);
    void remove(session* s);

    http_reply call(const std::function<http_reply()>& fn, std::string_view what);
    http::response<http::string_body> route(const http::request<http::string_body>& req);

    net::io_context& ioc_;
    net::strand<net::io_context::executor_type> strand_;
    tcp::acceptor acceptor_;
    net::steady_timer timer_;
    tcp::endpoint bound_;  // set once in the constructor (port 0 resolved); re-creation reuses it
    backoff delay_;
    std::atomic<bool> stopped_{false};

    const status_handlers handlers_;
    std::mutex calls_mutex_;
    std::condition_variable calls_cv_;
    int in_flight_ = 0;
    bool calls_closed_ = false;

    std::mutex sessions_mutex_;
    std::unordered_map<session*, std::weak_ptr<session>> sessions_;
};

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

http_reply text(unsigned status, std::string body) {
    return {status, "text/plain; charset=utf-8", std::move(body)};
}

// One status connection: read a request, answer it, repeat while keep-alive holds.
class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, std::shared_ptr<endpoint_core> owner)
        : stream_(std::move(socket)), owner_(std::move(owner)) {}
    ~session() { owner_->remove(this); }

    void run() {
        if (!owner_->add(this, weak_from_this())) return;  // stopping: the socket just closes
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&session::do_read, shared_from_this()));
    }

    // Any thread.
    void close() {
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
            self->stream_.close();
        });
    }

private:
    void do_read() {
        parser_.emplace();
        parser_->body_limit(body_limit);
        parser_->header_limit(header_limit);
        stream_.expires_after(io_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&session::on_read, shared_from_this()));
    }

    void on_read(boost::system::error_code ec, std::size_t) {
        if (ec == http::error::body_limit) return reply_error(413, "request body too large\n");
        if (ec == http::error::header_limit) return reply_error(431, "request header too large\n");
        if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message)
            return reply_error(400, "bad request\n");
        if (ec) return finish(ec);

        res_ = owner_->route(parser_->get());
        do_write();
    }

    void reply_error(unsigned status, std::string body) {
        res_ = make_response(text(status, std::move(body)), 11, false);
        do_write();
    }

    void do_write() {
        stream_.expires_after(io_timeout);
        http::async_write(stream_, res_,
                          beast::bind_front_handler(&session::on_write, shared_from_this()));
    }

    void on_write(boost::system::error_code ec, std::size_t) {
        if (ec) return finish(ec);
        if (res_.keep_alive()) return do_read();
        // Half-close, then read what the client may still send so that closing does not
        // reset the connection before it has read the reply.
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(linger_timeout);
        do_linger();
    }

    void do_linger() {
        stream_.async_read_some(
            net::buffer(scratch_),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                if (ec) return self->finish({});
                self->drained_ += n;
                if (self->drained_ > 64 * 1024) return self->finish({});
                self->do_linger();
            });
    }

    void finish(boost::system::error_code ec) {
        if (ec && ec != http::error::end_of_stream && ec != net::error::operation_aborted)
            log::limited(log::level::debug, "status:session",
                         log::str("status connection: ", ec.message()));
        boost::system::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    std::shared_ptr<endpoint_core> owner_;
    beast::flat_buffer buffer_{header_limit + body_limit};
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    std::array<char, 4096> scratch_{};
    std::size_t drained_ = 0;
};

}  // namespace

struct status_server::impl : endpoint_core {
    using endpoint_core::endpoint_core;
};

void endpoint_core::open(const tcp::endpoint& ep, boost::system::error_code& ec) {
    acceptor_.open(ep.protocol(), ec);
    if (ec) return;
#if !defined(_WIN32)
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return;
#endif
    acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    }
}

void endpoint_core::do_accept() {
    acceptor_.async_accept(
        net::make_strand(ioc_),
        beast::bind_front_handler(&endpoint_core::on_accept, shared_from_this()));
}

// Every branch either arms the next accept, arms the retry timer, or ends because stop()
// was called. An error never ends the loop.
void endpoint_core::on_accept(boost::system::error_code ec, tcp::socket socket) {
    const bool stopping = stopped_.load();
    if (!ec && stopping) return;  // stopped: the acceptor is closed, the socket closes here
    if (!ec) {
        delay_.reset();
        std::make_shared<session>(std::move(socket), shared_from_this())->run();
        return do_accept();
    }

    const auto d = classify_accept_error(ec, stopping);
    if (d.action == accept_action::stop) return;  // stopped: the acceptor is closed
    if (d.action == accept_action::retry_now) {
        log::limited(log::level::info, "status:accept-connection",
                     log::str("status endpoint accept: ", ec.message(), " (accepting again)"));
        return do_accept();
    }
    // Resource, listener and unknown errors: wait, then accept again (on a new socket after a
    // listener error). Never an immediate re-arm, which would spin.
    const bool reopen = d.action == accept_action::recreate_listener;
    const auto wait = delay_.next();
    log::limited(log::level::error, reopen ? "status:accept-listener" : "status:accept-resource",
                 log::str("status endpoint accept: ", ec.message(), " (", to_string(d.error_class),
                          "; ", reopen ? "re-creating the socket" : "accepting again", " in ",
                          wait.count(), " ms)"));
    schedule_retry(wait, reopen);
}

void endpoint_core::schedule_retry(std::chrono::milliseconds delay, bool reopen) {
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this(), reopen](const boost::system::error_code&) {
        self->on_retry(reopen);
    });
}

void endpoint_core::on_retry(bool reopen) {
    if (stopped_.load()) return;  // stopped: nothing more to arm
    if (reopen || !acceptor_.is_open()) {
        boost::system::error_code ec;
        acceptor_.close(ec);
        open(bound_, ec);
        if (ec) {
            const auto wait = delay_.next();
            log::limited(log::level::error, "status:reopen",
                         log::str("status endpoint cannot re-create its socket on ", bound_, ": ",
                                  ec.message(), " (trying again in ", wait.count(), " ms)"));
            return schedule_retry(wait, true);
        }
        TB_LOG_WARN("status endpoint socket re-created on ", bound_);
    }
    do_accept();
}

bool endpoint_core::add(session* s, const std::weak_ptr<session>& w) {
    std::lock_guard lock(sessions_mutex_);
    if (stopped_.load() || sessions_.size() >= max_sessions) {
        if (!stopped_.load())
            log::limited(log::level::warning, "status:too-many",
                         log::str("status endpoint: ", max_sessions,
                                  " connections open, closing a new one"));
        return false;
    }
    sessions_.emplace(s, w);
    return true;
}

void endpoint_core::remove(session* s) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(s);
}

http_reply endpoint_core::call(const std::function<http_reply()>& fn, std::string_view what) {
    {
        std::lock_guard lock(calls_mutex_);
        if (calls_closed_) return text(503, "stopping\n");
        ++in_flight_;
    }
    ++handler_depth;
    http_reply reply;
    std::string failure;
    try {
        reply = fn();
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "unknown failure";
    }
    if (!failure.empty()) {
        log::limited(log::level::error, log::str("status:handler:", what),
                     log::str("status endpoint ", what, ": ", failure));
        reply = text(500, "internal error\n");
    }
    --handler_depth;
    {
        std::lock_guard lock(calls_mutex_);
        --in_flight_;
    }
    calls_cv_.notify_all();
    return reply;
}

http::response<http::string_body> endpoint_core::route(
    const http::request<http::string_body>& req) {
    const auto version = req.version();
    const bool keep = req.keep_alive();
    std::string_view path(req.target().data(), req.target().size());
    path = path.substr(0, path.find('?'));

    const struct {
        std::string_view path;
        const std::function<http_reply()>& fn;
        http::verb method;
    } routes[] = {{"/healthz", handlers_.healthz, http::verb::get},
                  {"/status", handlers_.status, http::verb::get},
                  {"/metrics", handlers_.metrics, http::verb::get},
                  {"/reload", handlers_.reload, http::verb::post}};
    for (const auto& r : routes) {
        if (r.path != path) continue;
        if (!r.fn) break;  // no handler: not found
        if (req.method() != r.method) {
            auto res = make_response(text(405, "method not allowed\n"), version, keep);
            res.set(http::field::allow, http::to_string(r.method));
            return res;
        }
        return make_response(call(r.fn, r.path), version, keep);
    }
    return make_response(text(404, "not found\n"), version, keep);
}

void endpoint_core::stop() {
    if (!stopped_.exchange(true)) {
        auto close_acceptor = [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->timer_.cancel();
        };
        if (ioc_.stopped())
            close_acceptor();  // no thread runs the loop: nothing can race with us
        else
            net::post(strand_, close_acceptor);

        std::vector<std::shared_ptr<session>> live;
        {
            std::lock_guard lock(sessions_mutex_);
            for (auto& [ptr, weak] : sessions_)
                if (auto s = weak.lock()) live.push_back(std::move(s));
        }
        for (auto& s : live) s->close();
    }
    // No handler starts from now on; wait for the ones under way on other threads.
    std::unique_lock lock(calls_mutex_);
    calls_closed_ = true;
    calls_cv_.wait(lock, [this] { return in_flight_ <= handler_depth; });
}

status_server::status_server(net::io_context& ioc, const tcp::endpoint& ep,
                             status_handlers handlers)
    : impl_(std::make_shared<impl>(ioc, std::move(handlers))) {
    boost::system::error_code ec;
    impl_->open(ep, ec);
    if (!ec) impl_->bound_ = impl_->acceptor_.local_endpoint(ec);
    if (ec)
        throw boost::system::system_error(
            ec, "status endpoint " + ep.address().to_string() + ":" + std::to_string(ep.port()));
    net::post(impl_->strand_, [self = impl_] { self->do_accept(); });
}

status_server::~status_server() { impl_->stop(); }

tcp::endpoint status_server::local_endpoint() const { return impl_->bound_; }

void status_server::stop() { impl_->stop(); }

}  // namespace tlsbroker::core
