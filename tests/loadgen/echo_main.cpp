// tlsbroker-echo: a plain TCP echo backend for demos, benchmarks and soak runs.
// Echoes every byte, turns the client's EOF into its own shutdown(send), serves thousands
// of connections with a few threads (one io_context and one SO_REUSEPORT acceptor each),
// and never stops accepting: resource errors back off and retry.
//   tlsbroker-echo --listen 127.0.0.1:9000 [--threads 2]
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

class session : public std::enable_shared_from_this<session> {
public:
    explicit session(tcp::socket s) : socket_(std::move(s)) {}
    void run() { do_read(); }

private:
    void do_read() {
        socket_.async_read_some(
            net::buffer(buf_),
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
        net::async_write(
            socket_, net::buffer(buf_, n),
            [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
    }
    void on_write(error_code ec) {
        if (ec) {
            socket_.close(ec);
            return;
        }
        do_read();
    }

    tcp::socket socket_;
    char buf_[16384];
};

class listener {
public:
    listener(net::io_context& ctx, const tcp::endpoint& ep)
        : ctx_(ctx), acceptor_(ctx), timer_(ctx) {
        acceptor_.open(ep.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        int one = 1;
        ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        acceptor_.bind(ep);
        acceptor_.listen(4096);
    }
    tcp::endpoint local() const { return acceptor_.local_endpoint(); }
    void do_accept() {
        acceptor_.async_accept(
            ctx_, [this](error_code ec, tcp::socket s) { on_accept(ec, std::move(s)); });
    }

private:
    void on_accept(error_code ec, tcp::socket s) {
        if (ec) {
            // Out of descriptors or buffers, or anything else: wait a little, then accept again.
            timer_.expires_after(std::chrono::milliseconds(50));
            timer_.async_wait([this](error_code) { do_accept(); });
            return;
        }
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<session>(std::move(s))->run();
        do_accept();
    }

    net::io_context& ctx_;
    tcp::acceptor acceptor_;
    net::steady_timer timer_;
};

int usage() {
    std::fprintf(stderr, "usage: tlsbroker-echo --listen HOST:PORT [--threads N]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string listen;
    unsigned threads = 2;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--listen" && i + 1 < argc) {
            listen = argv[++i];
        } else if (a == "--threads" && i + 1 < argc) {
            threads = static_cast<unsigned>(std::max(1, std::atoi(argv[++i])));
        } else {
            return usage();
        }
    }
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return usage();
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    try {
        tcp::endpoint ep(net::ip::make_address(listen.substr(0, colon)),
                         static_cast<unsigned short>(std::stoi(listen.substr(colon + 1))));
        std::vector<std::unique_ptr<net::io_context>> ctx;
        std::vector<std::unique_ptr<listener>> listeners;
        for (unsigned t = 0; t < threads; ++t) {
            ctx.push_back(std::make_unique<net::io_context>(1));
            listeners.push_back(std::make_unique<listener>(*ctx.back(), ep));
            ep = listeners.back()->local();  // port 0: the others join the port the first got
        }
        std::printf("tlsbroker-echo listening on %s:%u\n", ep.address().to_string().c_str(),
                    ep.port());
        std::fflush(stdout);
        net::signal_set signals(*ctx[0], SIGINT, SIGTERM);
        signals.async_wait([&](error_code, int) {
            for (auto& c : ctx) c->stop();
        });
        for (auto& l : listeners) l->do_accept();
        std::vector<std::thread> workers;
        for (unsigned t = 1; t < threads; ++t)
            workers.emplace_back([c = ctx[t].get()] { c->run(); });
        ctx[0]->run();
        for (auto& c : ctx) c->stop();
        for (auto& w : workers) w.join();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tlsbroker-echo: %s\n", e.what());
        return 1;
    }
    return 0;
}
