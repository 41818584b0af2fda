#include "echo_server.hpp"

#include <sys/socket.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>

#include "proxy_header.hpp"

namespace echo {

using error_code = boost::system::error_code;

namespace {

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket s, const config& cfg, std::shared_ptr<stats> st)
        : socket_(std::move(s)),
          timer_(socket_.get_executor()),
          cfg_(cfg),
          stats_(std::move(st)),
          id_(++stats_->next_id) {}
    ~session() {
        ++stats_->closed;
        --stats_->slots;
    }

    void run() {
        if (!cfg_.proxy) return do_read();
        timer_.expires_after(std::chrono::milliseconds(static_cast<long long>(cfg_.header_timeout_s * 1000)));
        timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec && !self->header_done_) self->fail_header("timeout waiting for the header");
        });
        do_read_header();
    }

private:
    std::string peer() const {
        error_code ec;
        const auto ep = socket_.remote_endpoint(ec);
        return ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
    }

    void do_read_header() {
        socket_.async_read_some(net::buffer(buf_), [self = shared_from_this()](error_code ec, std::size_t n) {
            self->on_read_header(ec, n);
        });
    }
    void on_read_header(error_code ec, std::size_t n) {
        if (ec) return fail_header("connection ended before the header: " + ec.message());
        header_.insert(header_.end(), buf_, buf_ + n);
        const auto p = parse_proxy_header(header_.data(), header_.size());
        if (p.status == proxy_status::need_more) return do_read_header();
        if (p.status == proxy_status::invalid) return fail_header(p.error);
        header_done_ = true;
        timer_.cancel();
        report(proxy_json_fields(p.info) + ", \"conn\": " + std::to_string(id_) + ", \"peer\": \"" + peer() + "\"}");
        // Bytes after the header are the first payload: echo them first.
        header_.erase(header_.begin(), header_.begin() + static_cast<std::ptrdiff_t>(p.consumed));
        if (header_.empty()) return do_read();
        net::async_write(socket_, net::buffer(header_),
                         [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
    }
    void fail_header(const std::string& why) {
        if (header_done_) return;
        header_done_ = true;
        ++stats_->proxy_errors;
        std::string msg;
        for (const char c : why) msg += (c == '"' || c == '\\') ? ' ' : c;
        report("{\"conn\": " + std::to_string(id_) + ", \"peer\": \"" + peer() + "\", \"error\": \"" + msg + "\"}");
        error_code ec;
        timer_.cancel();
        socket_.close(ec);
    }
    void report(const std::string& line) {
        if (cfg_.report) cfg_.report(line);
    }

    void do_read() {
        socket_.async_read_some(net::buffer(buf_),
                                [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
    }
    void on_read(error_code ec, std::size_t n) {
        if (ec == net::error::eof) {
            // The client is done sending and everything read was echoed: end our side too.
            socket_.shutdown(tcp::socket::shutdown_send, ec);
            socket_.close(ec);
            return;
        }
        if (ec) {
            socket_.close(ec);
            return;
        }
        net::async_write(socket_, net::buffer(buf_, n),
                         [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
    }
    void on_write(error_code ec) {
        if (ec) {
            socket_.close(ec);
            return;
        }
        if (!header_.empty()) std::vector<unsigned char>().swap(header_);
        do_read();
    }

    tcp::socket socket_;
    net::steady_timer timer_;
    const config& cfg_;
    std::shared_ptr<stats> stats_;
    std::uint64_t id_;
    bool header_done_ = false;
    std::vector<unsigned char> header_;
    unsigned char buf_[16384];
};

}  // namespace

// States: waiting for a slot (full), accepting, backing off after an error. Every branch of
// the accept completion leads to one of them; none ends the loop.
class listener {
public:
    // Accepted sockets go to `targets` in turn.
    listener(net::io_context& ctx, std::vector<net::io_context*> targets, const tcp::endpoint& ep, const config& cfg,
             std::shared_ptr<stats> st)
        : targets_(std::move(targets)), acceptor_(ctx), timer_(ctx), cfg_(cfg), stats_(std::move(st)) {
        acceptor_.open(ep.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        int one = 1;
        ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        acceptor_.bind(ep);
        acceptor_.listen(4096);
    }
    tcp::endpoint local() const { return acceptor_.local_endpoint(); }

    void do_accept() {
        if (cfg_.max_connections && ++stats_->slots > cfg_.max_connections) {
            --stats_->slots;
            ++stats_->full_waits;
            return wait(std::chrono::milliseconds(10));
        }
        if (!cfg_.max_connections) ++stats_->slots;
        acceptor_.async_accept(*targets_[next_++ % targets_.size()],
                               [this](error_code ec, tcp::socket s) { on_accept(ec, std::move(s)); });
    }

private:
    void on_accept(error_code ec, tcp::socket s) {
        if (ec) {
            --stats_->slots;
            if (ec == net::error::operation_aborted) return;  // stopping
            ++stats_->accept_errors;
            backoff_ = std::min(std::chrono::milliseconds(1000), std::max(std::chrono::milliseconds(5), backoff_ * 2));
            std::fprintf(stderr, "tlsbroker-echo: accept: %s; retrying in %lld ms\n", ec.message().c_str(),
                         static_cast<long long>(backoff_.count()));
            return wait(backoff_);
        }
        backoff_ = std::chrono::milliseconds(0);
        ++stats_->accepted;
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<session>(std::move(s), cfg_, stats_)->run();
        do_accept();
    }
    void wait(std::chrono::milliseconds d) {
        timer_.expires_after(d);
        timer_.async_wait([this](error_code ec) {
            if (!ec) do_accept();
        });
    }

    std::vector<net::io_context*> targets_;
    std::size_t next_ = 0;
    tcp::acceptor acceptor_;
    net::steady_timer timer_;
    const config& cfg_;
    std::shared_ptr<stats> stats_;
    std::chrono::milliseconds backoff_{0};
};

server::server(config cfg) : cfg_(std::move(cfg)), stats_(std::make_shared<stats>()) {
    tcp::endpoint ep = cfg_.listen;
    for (unsigned t = 0; t < std::max(1u, cfg_.threads); ++t) {
        ctx_.push_back(std::make_unique<net::io_context>(1));
        work_.push_back(net::make_work_guard(*ctx_.back()));
    }
    if (cfg_.max_connections) {
        // One acceptor that hands sockets to every thread: with one acceptor per thread a
        // slot taken by an idle acceptor could starve the queue of a full one.
        std::vector<net::io_context*> all;
        for (auto& c : ctx_) all.push_back(c.get());
        listeners_.push_back(std::make_unique<listener>(*ctx_[0], all, ep, cfg_, stats_));
    } else {
        for (auto& c : ctx_) {
            listeners_.push_back(std::make_unique<listener>(*c, std::vector{c.get()}, ep, cfg_, stats_));
            ep = listeners_.back()->local();  // port 0: the others join the port the first got
        }
    }
    local_ = listeners_.front()->local();
}

server::~server() {
    stop();
    for (auto& t : threads_) t.join();
}

void server::start() {
    for (auto& l : listeners_) l->do_accept();
    for (auto& c : ctx_) threads_.emplace_back([c = c.get()] { c->run(); });
}

void server::run() {
    for (auto& l : listeners_) l->do_accept();
    for (std::size_t t = 1; t < ctx_.size(); ++t) threads_.emplace_back([c = ctx_[t].get()] { c->run(); });
    ctx_[0]->run();
    stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void server::stop() {
    for (auto& c : ctx_) c->stop();
}

}  // namespace echo
