// core/channel on this platform: non-blocking read and write, waiting for more, end of
// stream, and a reset kept as the channel's own error (not errno).
#include "core/session/channel.hpp"

#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

#include "support/socket_pair.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using tlsbroker::core::channel;
using tlsbroker::core::io_status;

struct channel_test : ::testing::Test {
    asio::io_context ioc;
    tcp::socket peer{ioc};
    std::unique_ptr<channel> io;

    void SetUp() override { io = std::make_unique<channel>(tlsbroker::test::accepted_side(ioc, peer)); }

    // Runs handlers until `done` or 5 s pass.
    bool run_until(const bool& done) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done && std::chrono::steady_clock::now() < end) {
            ioc.restart();
            ioc.run_for(std::chrono::milliseconds(20));
        }
        return done;
    }
};

TEST_F(channel_test, read_wants_more_until_data_arrives_then_the_wait_completes) {
    char buf[64];
    EXPECT_EQ(io->read(buf, sizeof buf).status, io_status::want_read);
    bool woke = false;
    boost::system::error_code got;
    io->wait(io_status::want_read, [&](const boost::system::error_code& ec) {
        got = ec;
        woke = true;
    });
    ioc.run_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(woke) << "the wait completed before any data arrived";
    asio::write(peer, asio::buffer(std::string("hello")));
    ASSERT_TRUE(run_until(woke));
    EXPECT_FALSE(got);
    const auto r = io->read(buf, sizeof buf);
    ASSERT_EQ(r.status, io_status::ok);
    EXPECT_EQ(std::string(buf, r.bytes), "hello");
    EXPECT_EQ(io->read(buf, sizeof buf).status, io_status::want_read);
}

// After a short read the socket is known to be empty: the next read says want_read without
// a system call (it would only fail with EAGAIN), even when data has arrived since, and the
// wait finds that data at once.
TEST_F(channel_test, a_short_read_drains_the_channel_until_the_next_wait) {
    char buf[64];
    asio::write(peer, asio::buffer(std::string("one")));
    bool woke = false;
    io->wait(io_status::want_read, [&](const boost::system::error_code&) { woke = true; });
    ASSERT_TRUE(run_until(woke));
    auto r = io->read(buf, sizeof buf);
    ASSERT_EQ(r.status, io_status::ok);
    EXPECT_EQ(std::string(buf, r.bytes), "one");
    asio::write(peer, asio::buffer(std::string("two")));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int queued = 0;
    while (queued < 3 && std::chrono::steady_clock::now() < until)
        ::ioctl(static_cast<int>(io->socket().native_handle()), FIONREAD, &queued);
    ASSERT_EQ(queued, 3);
    EXPECT_EQ(io->read(buf, sizeof buf).status, io_status::want_read) << "read the socket after a short read";
    woke = false;
    io->wait(io_status::want_read, [&](const boost::system::error_code&) { woke = true; });
    ASSERT_TRUE(run_until(woke)) << "the wait did not find the data that arrived before it";
    r = io->read(buf, sizeof buf);
    ASSERT_EQ(r.status, io_status::ok);
    EXPECT_EQ(std::string(buf, r.bytes), "two");
}

// A read for a record header (OpenSSL 3.2+ asks for 5 bytes, then the body, while the
// handshake runs) takes everything the socket holds in that one call; the next reads are
// served from what was kept, and the channel is then known to be drained.
TEST_F(channel_test, a_record_header_read_takes_what_the_socket_has_in_one_call) {
    const std::string records =
        std::string("\x16\x03\x01\x00\x05", 5) + "hello" + std::string("\x14\x03\x03\x00\x01\x01", 6);
    asio::write(peer, asio::buffer(records));
    bool woke = false;
    io->wait(io_status::want_read, [&](const boost::system::error_code&) { woke = true; });
    ASSERT_TRUE(run_until(woke));
    char buf[64];
    auto r = io->read(buf, 5);
    ASSERT_EQ(r.status, io_status::ok);
    ASSERT_EQ(r.bytes, 5u);
    EXPECT_EQ(std::string(buf, 5), records.substr(0, 5));
    int queued = -1;
    ::ioctl(static_cast<int>(io->socket().native_handle()), FIONREAD, &queued);
    EXPECT_EQ(queued, 0) << "the header read left the rest of the records in the socket";
    r = io->read(buf, 5);
    ASSERT_EQ(r.status, io_status::ok);
    EXPECT_EQ(std::string(buf, r.bytes), "hello");
    r = io->read(buf, sizeof buf);
    ASSERT_EQ(r.status, io_status::ok);
    EXPECT_EQ(std::string(buf, r.bytes), records.substr(10));
    EXPECT_EQ(io->read(buf, sizeof buf).status, io_status::want_read);
}

// More than one read's worth behind a header read: nothing is lost or reordered, and the
// socket is read again (not taken as drained) once what was kept is used up.
TEST_F(channel_test, a_header_read_with_more_queued_than_it_takes_loses_nothing) {
    std::string sent(40000, '\0');
    for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>('a' + i % 26);
    asio::write(peer, asio::buffer(sent));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int queued = 0;
    while (queued < static_cast<int>(sent.size()) && std::chrono::steady_clock::now() < until)
        ::ioctl(static_cast<int>(io->socket().native_handle()), FIONREAD, &queued);
    ASSERT_EQ(queued, static_cast<int>(sent.size()));
    std::string got;
    char buf[4096];
    auto r = io->read(buf, 5);
    ASSERT_EQ(r.status, io_status::ok);
    got.append(buf, r.bytes);
    while (got.size() < sent.size()) {
        r = io->read(buf, sizeof buf);
        ASSERT_EQ(r.status, io_status::ok) << "after " << got.size() << " bytes";
        got.append(buf, r.bytes);
    }
    EXPECT_EQ(got, sent);
}

TEST_F(channel_test, a_full_socket_wants_write_and_the_wait_ends_when_the_peer_reads) {
    peer.set_option(asio::socket_base::receive_buffer_size(4096));
    io->socket().set_option(asio::socket_base::send_buffer_size(4096));
    const std::string chunk(64 * 1024, 'x');
    std::size_t written = 0;
    io_status last = io_status::ok;
    for (int i = 0; i < 10000 && last == io_status::ok; ++i) {
        const auto r = io->write(chunk.data(), chunk.size());
        last = r.status;
        written += r.bytes;
    }
    ASSERT_EQ(last, io_status::want_write) << "the socket never filled up";
    bool woke = false;
    io->wait(io_status::want_write, [&](const boost::system::error_code& ec) {
        EXPECT_FALSE(ec);
        woke = true;
    });
    // The peer reads everything written so far; the channel then takes bytes again.
    std::string sink(written, '\0');
    std::size_t got = 0;
    std::function<void()> drain = [&] {
        peer.async_read_some(asio::buffer(sink.data() + got, sink.size() - got),
                             [&](const boost::system::error_code& ec, std::size_t n) {
                                 got += n;
                                 if (!ec && got < sink.size()) drain();
                             });
    };
    drain();
    ASSERT_TRUE(run_until(woke));
    const auto r = io->write(chunk.data(), 1);
    EXPECT_EQ(r.status, io_status::ok);
    EXPECT_TRUE(io->flushed());
}

TEST_F(channel_test, the_peer_closing_is_end_of_stream) {
    peer.shutdown(tcp::socket::shutdown_send);
    bool woke = false;
    io->wait(io_status::want_read, [&](const boost::system::error_code&) { woke = true; });
    ASSERT_TRUE(run_until(woke));
    char buf[16];
    EXPECT_EQ(io->read(buf, sizeof buf).status, io_status::eof);
    EXPECT_FALSE(io->last_error()) << "a clean end is no error";
}

TEST_F(channel_test, a_reset_is_an_error_the_channel_keeps) {
    peer.set_option(asio::socket_base::linger(true, 0));
    peer.close();
    bool woke = false;
    io->wait(io_status::want_read, [&](const boost::system::error_code&) { woke = true; });
    ASSERT_TRUE(run_until(woke));
    char buf[16];
    const auto r = io->read(buf, sizeof buf);
    EXPECT_EQ(r.status, io_status::error);
    EXPECT_EQ(io->last_error(), asio::error::connection_reset);
    EXPECT_FALSE(r.error.empty());
}

}  // namespace

TEST_F(channel_test, a_close_delivers_what_was_written_and_a_reset_close_drops_it) {
    const std::string data("still queued");
    ASSERT_EQ(io->write(data.data(), data.size()).status, tlsbroker::core::io_status::ok);
    io->close();
    std::string got(data.size(), '\0');
    boost::system::error_code ec;
    asio::read(peer, asio::buffer(got), ec);
    EXPECT_FALSE(ec);
    EXPECT_EQ(got, data);
    char more[8];
    peer.read_some(asio::buffer(more), ec);
    EXPECT_EQ(ec, asio::error::eof);

    tcp::socket other(ioc);
    tcp::acceptor acc(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    other.connect(acc.local_endpoint());
    tcp::socket s(ioc);
    acc.accept(s);
    s.non_blocking(true);
    channel second(std::move(s));
    ASSERT_EQ(second.write(data.data(), data.size()).status, tlsbroker::core::io_status::ok);
    second.close(true);
    // Bytes already delivered may still be read; the stream then ends in a reset, not an EOF.
    ec.clear();
    for (int i = 0; i < 100 && !ec; ++i) other.read_some(asio::buffer(more), ec);
    EXPECT_EQ(ec, asio::error::connection_reset) << ec.message();
}
