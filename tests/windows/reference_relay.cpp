// A plain completion-based TLS relay, the yardstick for the broker under Wine: each client's
// TLS stream (asio::ssl::stream, async_read_some/async_write) relayed to one backend TCP
// connection, 64 KiB buffers, N threads on one io_context (one completion port on Windows).
// No limits, timeouts or counters. If it fails the site mix under Wine as the broker does,
// the bound is Wine's, not the broker's (scripts/soak-wine-reference.sh).
// Usage: reference-relay LISTEN_PORT BACKEND_PORT CERT KEY [THREADS]
#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

class relay : public std::enable_shared_from_this<relay> {
public:
    relay(tcp::socket s, asio::ssl::context& ctx, tcp::endpoint backend)
        : client_(std::move(s), ctx), backend_(client_.get_executor()), backend_ep_(backend) {}

    void start() {
        client_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
            if (ec) return;
            self->backend_.async_connect(self->backend_ep_, [self](error_code ec) {
                if (ec) return self->close();
                self->up();
                self->down();
            });
        });
    }

private:
    void up() {
        client_.async_read_some(asio::buffer(up_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (ec) return self->close();
            asio::async_write(self->backend_, asio::buffer(self->up_, n), [self](error_code ec, std::size_t) {
                if (ec) return self->close();
                self->up();
            });
        });
    }
    void down() {
        backend_.async_read_some(asio::buffer(down_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (ec) return self->close();
            asio::async_write(self->client_, asio::buffer(self->down_, n), [self](error_code ec, std::size_t) {
                if (ec) return self->close();
                self->down();
            });
        });
    }
    void close() {
        error_code ignored;
        client_.lowest_layer().close(ignored);
        backend_.close(ignored);
    }

    asio::ssl::stream<tcp::socket> client_;
    tcp::socket backend_;
    tcp::endpoint backend_ep_;
    std::array<char, 64 * 1024> up_{}, down_{};
};

void accept(tcp::acceptor& a, asio::ssl::context& ctx, const tcp::endpoint& backend) {
    a.async_accept(asio::make_strand(a.get_executor()), [&a, &ctx, backend](error_code ec, tcp::socket s) {
        if (!ec) std::make_shared<relay>(std::move(s), ctx, backend)->start();
        accept(a, ctx, backend);  // every error too: the accept chain never breaks
    });
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::cerr << "usage: reference-relay LISTEN_PORT BACKEND_PORT CERT KEY [THREADS]\n";
        return 2;
    }
    const auto loopback = asio::ip::make_address("127.0.0.1");
    const int threads = argc > 5 ? std::atoi(argv[5]) : 2;
    asio::io_context ioc(threads);
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    ctx.use_certificate_chain_file(argv[3]);
    ctx.use_private_key_file(argv[4], asio::ssl::context::pem);
    tcp::acceptor a(ioc, tcp::endpoint(loopback, static_cast<unsigned short>(std::atoi(argv[1]))));
    a.listen(500);
    accept(a, ctx, tcp::endpoint(loopback, static_cast<unsigned short>(std::atoi(argv[2]))));
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
}
