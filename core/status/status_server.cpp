#include "status_server.hpp"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "core/accept/accept_loop.hpp"
#include "core/common/log.hpp"
#include "core/status/reload_gate.hpp"
#include "core/status/status_connection.hpp"

namespace tlsbroker::core {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t max_sessions = 64;            // status connections open at once; more are closed
constexpr std::size_t max_sessions_per_source = 8;  // every loopback address counts as one source
constexpr auto reload_min_interval = 1s;            // POST /reload: at most one per second, one at a time

// How many handler calls the current thread is inside (lets stop() run from a handler).
thread_local int handler_depth = 0;

// The endpoint's state; status_server::impl is this under the name the header declares.
// The accept mechanism is the shared accept_loop; this is its owner (the policy: every
// connection is served, accept errors are counted).
struct endpoint_core : status_connection_owner, accept_loop_owner, std::enable_shared_from_this<endpoint_core> {
    endpoint_core(net::io_context& ioc, status_handlers h, status_access a)
        : ioc_(ioc),
          loop_(std::make_shared<accept_loop>(
              ioc,
              accept_loop_options{
                  "status endpoint", "status", net::socket_base::max_listen_connections, false, {}, 1, {}})),
          handlers_(std::move(h)),
          access_(std::make_shared<const status_access>(std::move(a))) {}

    void start(const tcp::endpoint& ep);  // throws boost::system::system_error
    void stop();

    // accept_loop_owner
    void on_connection(tcp::socket socket) override;
    void on_event(accept_event e) override;

    // Sessions register themselves; stop() closes whatever is registered.
    bool add(status_connection* s, const std::weak_ptr<status_connection>& w, const std::string& source) override;
    void remove(status_connection* s) override;

    http_reply call(const std::function<http_reply()>& fn, std::string_view what);
    std::shared_ptr<const status_access> access() const override {
        std::lock_guard lock(access_mutex_);
        return access_;
    }
    void configure(status_access a) {
        auto next = std::make_shared<const status_access>(std::move(a));
        std::lock_guard lock(access_mutex_);
        access_ = std::move(next);
    }
    std::optional<http_reply> authorize(const request& req, const status_access& a) override;
    response route(const request& req) override;
    bool is_reload(const request& req) const override;
    // Runs the reload handler on the reload gate's thread and then done(reply) there; or
    // refuses at once (429 while one runs or within reload_min_interval of the last, 503
    // when stopping).
    std::optional<http_reply> start_reload(std::function<void(http_reply)> done) override;
    void count(counter c) override {
        if (handlers_.counters != nullptr) handlers_.counters->add(c);
    }

    net::io_context& ioc_;
    std::shared_ptr<accept_loop> loop_;
    std::atomic<bool> stopped_{false};

    const status_handlers handlers_;
    mutable std::mutex access_mutex_;
    std::shared_ptr<const status_access> access_;
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

void endpoint_core::start(const tcp::endpoint& ep) {
    loop_->set_owner(weak_from_this());
    loop_->set_endpoint(ep);
    try {
        loop_->open();
    } catch (const boost::system::system_error& e) {
        throw boost::system::system_error(
            e.code(), "status endpoint " + ep.address().to_string() + ":" + std::to_string(ep.port()));
    }
    loop_->start();
}

void endpoint_core::on_connection(tcp::socket socket) {
    if (stopped_.load()) {
        boost::system::error_code ignored;
        socket.close(ignored);  // stopped while this accept completed: not served
        return;
    }
    std::make_shared<status_connection>(std::move(socket), shared_from_this())->run();
}

// Every accept error is counted by class (the loop logs it); the endpoint never pauses at a
// limit (its connection caps close connections once accepted, see add()).
void endpoint_core::on_event(accept_event e) {
    switch (e) {
        case accept_event::error_connection:
            return count(counter::status_accept_errors_connection);
        case accept_event::error_resource:
            return count(counter::status_accept_errors_resource);
        case accept_event::error_listener:
            return count(counter::status_accept_errors_listener);
        case accept_event::paused_at_limit:
        case accept_event::resumed_below_limit:
        case accept_event::backing_off:
        case accept_event::resumed_after_backoff:
        case accept_event::socket_recreated:
            return;
    }
}

bool endpoint_core::add(status_connection* s, const std::weak_ptr<status_connection>& w, const std::string& source) {
    std::lock_guard lock(sessions_mutex_);
    if (stopped_.load()) return false;
    auto& mine = per_source_[source];
    if (sessions_.size() >= max_sessions || mine >= max_sessions_per_source) {
        const bool total = sessions_.size() >= max_sessions;
        if (mine == 0) per_source_.erase(source);
        count(counter::status_refused_source);
        log::limited(log::level::warning, total ? "status:too-many" : "status:too-many-source",
                     total ? log::str("status endpoint: ", max_sessions, " connections open, closing a new one")
                           : log::str("status endpoint: ", max_sessions_per_source, " connections open from ", source,
                                      ", closing a new one"),
                     log::client());
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
    const auto refused = reloads_.start(
        [self = shared_from_this(), done = std::move(done)] { done(self->call(self->handlers_.reload, "/reload")); });
    if (!refused) return std::nullopt;
    if (*refused != reload_gate::refusal::closed) count(counter::status_refused_reload);
    switch (*refused) {
        case reload_gate::refusal::busy:
            return text(429, "a reload is running; try again\n");
        case reload_gate::refusal::too_soon:
            return text(429, "at most one reload per second; try again\n");
        case reload_gate::refusal::closed:
            break;
    }
    return text(503, "stopping\n");
}

// /healthz and the page need no token (load balancers probe without one; the page is static
// and fetches /status, which does); a reload needs the reload token, and is off without one;
// everything else needs the read token when one is set.
std::optional<http_reply> endpoint_core::authorize(const request& req, const status_access& a) {
    std::string_view path(req.target().data(), req.target().size());
    path = path.substr(0, path.find('?'));
    std::optional<std::string_view> authorization;
    if (const auto it = req.find(http::field::authorization); it != req.end())
        authorization = std::string_view(it->value().data(), it->value().size());
    const auto refuse = [&](counter c, unsigned status, std::string body) {
        count(c);
        log::limited(log::level::warning, log::str("status:refused:", info(c).key),
                     log::str("status endpoint: ", req.method_string(), " ", path, " refused with ", status, ": ",
                              std::string_view(body).substr(0, body.size() - 1)),
                     log::client());
        return text(status, std::move(body));
    };
    if (is_reload(req)) {
        if (!a.reload_token)
            return refuse(counter::status_refused_reload_off, 403,
                          "HTTP reload is off: set status.reload_token_file and send its token as \"Authorization: "
                          "Bearer <token>\" to turn it on (SIGHUP, or PARAMCHANGE on Windows, reloads without it)\n");
        if (!a.reload_token->matches(authorization))
            return refuse(counter::status_refused_token, 401,
                          "POST /reload needs the token of status.reload_token_file as \"Authorization: Bearer "
                          "<token>\"\n");
        return std::nullopt;
    }
    if (!a.read_token || path == "/healthz" || path == "/") return std::nullopt;
    if (a.read_token->matches(authorization)) return std::nullopt;
    return refuse(counter::status_refused_token, 401,
                  "this page needs the token of status.token_file as \"Authorization: Bearer <token>\"\n");
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
        loop_->stop();  // inline when no thread runs the loop any more

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

status_server::status_server(net::io_context& ioc, const tcp::endpoint& ep, status_handlers handlers,
                             status_access access)
    : impl_(std::make_shared<impl>(ioc, std::move(handlers), std::move(access))) {
    impl_->start(ep);
}

status_server::~status_server() { impl_->stop(); }

tcp::endpoint status_server::local_endpoint() const { return impl_->loop_->local_endpoint(); }

void status_server::stop() { impl_->stop(); }

void status_server::configure(status_access access) { impl_->configure(std::move(access)); }

void status_server::use_accept_operations(std::shared_ptr<accept_operations> ops, std::function<void()> applied) {
    impl_->loop_->use_accept_operations(std::move(ops), std::move(applied));
}

}  // namespace tlsbroker::core
