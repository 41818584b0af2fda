// core/tls_io over a real channel: a read fills the caller's buffer from every record already
// read ahead, so the other side gets one write for several records, and nothing is lost or
// reordered on the way.
#include "core/session/tls_io.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/ioctl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "core/session/channel.hpp"
#include "core/tls/tls_context.hpp"
#include "support/socket_pair.hpp"
#include "support/test_certs.hpp"
#include "support/wait.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using tlsbroker::core::channel;
using tlsbroker::core::io_status;

struct tls_io_test : ::testing::Test {
    asio::io_context ioc;
    tcp::socket peer{ioc};
    std::unique_ptr<channel> io;
    std::unique_ptr<tlsbroker::core::tls_context> ctx;
    tlsbroker::core::ssl_ptr server;
    SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
    SSL* client = nullptr;

    void SetUp() override {
        const auto dir = tlsbroker::test::make_temp_dir("tls-io");
        const auto cert = tlsbroker::test::make_self_signed(dir);
        tlsbroker::config::tls_config cfg;
        cfg.certificate = cert.cert;
        cfg.private_key = cert.key;
        ctx = std::make_unique<tlsbroker::core::tls_context>("test", cfg);

        io = std::make_unique<channel>(tlsbroker::test::accepted_side(ioc, peer));
        server = tlsbroker::core::make_server_ssl(ctx->native(), *io);
        client = SSL_new(client_ctx);
        SSL_set_fd(client, static_cast<int>(peer.native_handle()));

        // The client's blocking handshake on its own thread; the server's non-blocking one here.
        std::thread t([&] { EXPECT_EQ(SSL_connect(client), 1); });
        auto r = tlsbroker::core::tls_handshake(server.get());
        while ((r.status == io_status::want_read || r.status == io_status::want_write) && wait_ready(r.status))
            r = tlsbroker::core::tls_handshake(server.get());
        t.join();
        ASSERT_EQ(r.status, io_status::ok) << r.error;
    }
    // The channel's protocol: after want_read or want_write, wait() before trying again (a
    // drained channel says want_read without asking the socket). False after 5 s.
    bool wait_ready(io_status want) {
        bool fired = false;
        io->wait(want, [&](const boost::system::error_code&) { fired = true; });
        ioc.restart();
        const auto until = std::chrono::steady_clock::now() + 5s;
        while (!fired && std::chrono::steady_clock::now() < until) ioc.run_one_for(100ms);
        return fired;
    }
    void TearDown() override {
        SSL_free(client);
        SSL_CTX_free(client_ctx);
    }

    int queued() {
        int n = 0;
        ::ioctl(static_cast<int>(io->socket().native_handle()), FIONREAD, &n);
        return n;
    }
};

TEST_F(tls_io_test, one_read_takes_every_record_already_read_ahead) {
    // Four full records (64 KiB) and a short one, written at once.
    std::string sent(64 * 1024 + 100, '\0');
    for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>('a' + i % 23);
    ASSERT_EQ(SSL_write(client, sent.data(), static_cast<int>(sent.size())), static_cast<int>(sent.size()));
    // Every record is in the socket before the first read.
    ASSERT_TRUE(tlsbroker::test::wait_until([&] { return queued() >= static_cast<int>(sent.size()); }, 5s));

    std::string got(64 * 1024, '\0');
    auto first = tlsbroker::core::tls_read(server.get(), got.data(), got.size());
    if (first.status == io_status::want_read) {  // the handshake's last read drained the channel
        ASSERT_TRUE(wait_ready(first.status));
        first = tlsbroker::core::tls_read(server.get(), got.data(), got.size());
    }
    ASSERT_EQ(first.status, io_status::ok) << first.error;
    // One record is 16 KiB: a read that stopped at one record would return 16,384.
    EXPECT_EQ(first.bytes, got.size());
    std::string all = got.substr(0, first.bytes);
    while (all.size() < sent.size()) {
        const auto r = tlsbroker::core::tls_read(server.get(), got.data(), got.size());
        ASSERT_EQ(r.status, io_status::ok) << r.error;
        all += got.substr(0, r.bytes);
    }
    EXPECT_EQ(all, sent);
}

TEST_F(tls_io_test, a_fill_stops_at_the_end_of_stream_and_the_next_read_reports_it) {
    const std::string sent(20000, 'z');
    ASSERT_EQ(SSL_write(client, sent.data(), static_cast<int>(sent.size())), static_cast<int>(sent.size()));
    SSL_shutdown(client);  // close_notify right behind the data
    ASSERT_TRUE(tlsbroker::test::wait_until([&] { return queued() >= static_cast<int>(sent.size()); }, 5s));
    std::string got(64 * 1024, '\0');
    std::size_t total = 0;
    auto r = tlsbroker::core::tls_read(server.get(), got.data(), got.size());
    while (r.status == io_status::ok || r.status == io_status::want_read) {
        total += r.bytes;
        if (r.status == io_status::want_read) {
            ASSERT_TRUE(wait_ready(r.status));
        }
        r = tlsbroker::core::tls_read(server.get(), got.data(), got.size());
    }
    EXPECT_EQ(total, sent.size());
    EXPECT_EQ(r.status, io_status::eof);
    EXPECT_FALSE(r.truncated);
}

}  // namespace
