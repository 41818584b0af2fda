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
#include "core/reload_gate.hpp"
#include "core/status_connection.hpp"

namespace tlsbroker::core {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_sessions = 64;  // status connections open at once; more are closed
constexpr std::size_t max_sessions_per_source = 8;  // every loopback address counts as one source
constexpr auto reload_min_interval = 1s;  // POST /reload: at most one per second, one at a time

// How many handler calls the current thread is inside (lets stop() run from a handler).
thread_local int handler_depth = 0;

// The endpoint's state; status_server::impl is this under the name the header declares.
struct endpoint_core : status_connection_owner, std::enable_shared_from_this<endpoint_core> {
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
    bool add(status_connection* c, const std::weak_ptr<status_connection>& w, const std::string& source) override;
    void remove(status_connection* c) override;

    http_reply call(const std::function<http_reply()>& fn, std::string_view what);
    response route(const request& req) override;
    bool is_reload(const request& req) const override;
    // Runs the reload handler on the reload gate's thread and then done(reply) there; or
    // refuses at once (429 while one runs or within reload_min_interval of the last, 503
    // when stopping).
    std::optional<http_reply> start_reload(std::function<void(http_reply)> done) override;
    void count_refusal(counter c) override {
        if (handlers_.counters != nullptr) handlers_.counters->add(c);
    }

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
    struct entry {
        std::weak_ptr<status_connection> connection;
        std::string source;
    };
    std::unordered_map<status_connection*, entry> sessions_;
    std::unordered_map<std::string, std::size_t> per_source_;
    reload_gate reloads_{reload_min_interval};
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
        std::make_shared<status_connection>(std::move(socket), shared_from_this())->run();
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
    timer_.async_wait([self = shared_from_this(), reopen](const boost::system::error_code& ec) {
        if (ec == net::error::operation_aborted) return;  // cancelled (stop): nothing to arm
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

bool endpoint_core::add(status_connection* s, const std::weak_ptr<status_connection>& w, const std::string& source) {
    std::lock_guard lock(sessions_mutex_);
    if (stopped_.load()) return false;
    auto& mine = per_source_[source];
    if (sessions_.size() >= max_sessions || mine >= max_sessions_per_source) {
        const bool total = sessions_.size() >= max_sessions;
        if (mine == 0) per_source_.erase(source);
        count_refusal(counter::status_refused_source);
        log::limited(log::level::warning, total ? "status:too-many" : "status:too-many-source",
                     total ? log::str("status endpoint: ", max_sessions, " connections open, closing a new one")
                           : log::str("status endpoint: ", max_sessions_per_source, " connections open from ",
                                      source, ", closing a new one"));
        return false;
    }
    ++mine;
    sessions_.emplace(s, entry{w, source});
    return true;
}

void endpoint_core::remove(status_connection* s) {
    std::lock_guard lock(sessions_mutex_);
    const auto it = sessions_.find(s);
    if (it == sessions_.end()) return;
    if (const auto n = per_source_.find(it->second.source); n != per_source_.end() && --n->second == 0)
        per_source_.erase(n);
    sessions_.erase(it);
}

bool endpoint_core::is_reload(const request& req) const {
    const std::string_view target(req.target().data(), req.target().size());
    return handlers_.reload && req.method() == http::verb::post && target.substr(0, target.find('?')) == "/reload";
}

std::optional<http_reply> endpoint_core::start_reload(std::function<void(http_reply)> done) {
    const auto refused = reloads_.start([self = shared_from_this(), done = std::move(done)] {
        done(self->call(self->handlers_.reload, "/reload"));
    });
    if (!refused) return std::nullopt;
    if (*refused != reload_gate::refusal::closed) count_refusal(counter::status_refused_reload);
    switch (*refused) {
    case reload_gate::refusal::busy: return text(429, "a reload is running; try again\n");
    case reload_gate::refusal::too_soon: return text(429, "at most one reload per second; try again\n");
    case reload_gate::refusal::closed: break;
    }
    return text(503, "stopping\n");
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

status_connection_owner::response endpoint_core::route(const request& req) {
    const auto version = req.version();
    const bool keep = req.keep_alive();
    std::string_view path(req.target().data(), req.target().size());
    path = path.substr(0, path.find('?'));

    const struct {
        std::string_view path;
        const std::function<http_reply()>& fn;
        http::verb method;
    } routes[] = {{"/", handlers_.page, http::verb::get},
                  {"/healthz", handlers_.healthz, http::verb::get},
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

        std::vector<std::shared_ptr<status_connection>> live;
        {
            std::lock_guard lock(sessions_mutex_);
            for (auto& [ptr, e] : sessions_)
                if (auto s = e.connection.lock()) live.push_back(std::move(s));
        }
        for (auto& s : live) s->close();
    }
    // No handler starts from now on; wait for the ones under way on other threads.
    {
        std::unique_lock lock(calls_mutex_);
        calls_closed_ = true;
        calls_cv_.wait(lock, [this] { return in_flight_ <= handler_depth; });
    }
    reloads_.close();  // its handler has returned (or never started): collect the thread
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
