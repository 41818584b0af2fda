#include "echo_selftest.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "echo_server.hpp"

namespace echo {

namespace {

// A blocking loopback client; every call is bounded by a 5 s socket timeout.
class client {
public:
    explicit client(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~client() { ::close(fd_); }
    bool ok() const { return ok_; }
    bool send(const std::string& s) {
        for (std::size_t off = 0; off < s.size();) {
            const auto n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return false;
            off += static_cast<std::size_t>(n);
        }
        return true;
    }
    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
    // Reads exactly n bytes (fewer on EOF, error or timeout).
    std::string read(std::size_t n) {
        std::string out;
        char buf[65536];
        while (out.size() < n) {
            const auto got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
            if (got <= 0) break;
            out.append(buf, static_cast<std::size_t>(got));
        }
        return out;
    }
    // Reads until EOF; false on an error or a timeout.
    bool read_to_eof(std::string& out) {
        char buf[65536];
        for (;;) {
            const auto got = ::recv(fd_, buf, sizeof buf, 0);
            if (got == 0) return true;
            if (got < 0) return false;
            out.append(buf, static_cast<std::size_t>(got));
        }
    }
    // True when nothing arrives within `ms`.
    bool silent_for(int ms) {
        timeval tv{0, ms * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c;
        const bool silent = ::recv(fd_, &c, 1, 0) < 0;
        timeval back{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &back, sizeof back);
        return silent;
    }

private:
    int fd_;
    bool ok_ = false;
};

struct lines {
    std::mutex m;
    std::vector<std::string> v;
    // The first line containing `needle`, waiting up to 2 s for it.
    std::string find(const std::string& needle) {
        for (int i = 0; i < 200; ++i) {
            {
                std::lock_guard lock(m);
                for (const auto& l : v)
                    if (l.find(needle) != std::string::npos) return l;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return {};
    }
};

int failures = 0;

void expect(bool ok, const char* what, const std::string& detail = {}) {
    std::printf("echo selftest: %-56s %s%s%s\n", what, ok ? "ok" : "FAILED", ok || detail.empty() ? "" : ": ",
                ok ? "" : detail.c_str());
    if (!ok) ++failures;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(g());
    return s;
}

std::string be16(std::size_t v) { return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)}; }

std::string tlv(unsigned char type, const std::string& value) {
    return std::string(1, static_cast<char>(type)) + be16(value.size()) + value;
}

std::string v2_header(unsigned char ver_cmd, unsigned char fam, const std::string& body) {
    const std::string sig("\r\n\r\n\0\r\nQUIT\n", 12);
    return sig + static_cast<char>(ver_cmd) + static_cast<char>(fam) + be16(body.size()) + body;
}

config make_config(bool proxy, std::size_t max, lines* out) {
    config cfg;
    cfg.listen = {net::ip::make_address("127.0.0.1"), 0};
    cfg.threads = 2;
    cfg.proxy = proxy;
    cfg.max_connections = max;
    cfg.header_timeout_s = 2;
    if (out)
        cfg.report = [out](const std::string& l) {
            std::lock_guard lock(out->m);
            out->v.push_back(l);
        };
    return cfg;
}

// Sends `data` from another thread while reading the echo to EOF after a half-close.
bool echo_half_close(client& c, const std::string& prefix, const std::string& data) {
    std::thread writer([&] {
        c.send(prefix + data);
        c.shutdown_write();
    });
    std::string back;
    const bool eof = c.read_to_eof(back);
    writer.join();
    return eof && back == data;
}

}  // namespace

int run_selftest() {
    {
        server plain(make_config(false, 0, nullptr));
        plain.start();
        client c(plain.local().port());
        expect(c.ok() && echo_half_close(c, "", random_bytes(3 << 20, 1)),
               "3 MB echoed byte-exact, FIN after the half-close");
    }
    {
        lines out;
        server px(make_config(true, 0, &out));
        px.start();
        const auto port = px.local().port();
        {
            client c(port);
            const bool echoed = c.send("PROXY TCP4 192.0.2.1 198.51.100.2 1234 443\r\nhello") && c.read(5) == "hello";
            const auto l = out.find("192.0.2.1:1234");
            expect(echoed && l.find("\"dst\": \"198.51.100.2:443\"") != std::string::npos &&
                       l.find("\"version\": 1") != std::string::npos,
                   "PROXY v1 TCP4 parsed, payload after it echoed", l);
        }
        {
            std::string body(36, '\0');
            const unsigned char src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
            std::memcpy(body.data(), src, 16);
            body[31] = 2;  // dst ::2
            body.replace(32, 4, be16(5000) + be16(443));
            const std::string ssl = std::string("\x01\0\0\0\0", 5) + tlv(0x21, "TLSv1.3") + tlv(0x22, "client-one");
            body += tlv(0x01, "h2") + tlv(0x02, "example.test") + tlv(0x20, ssl);
            const auto header = v2_header(0x21, 0x21, body);
            client c(port);
            // The header arrives in two pieces; the payload right behind it.
            const bool first = c.send(header.substr(0, 10));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const bool echoed = first && echo_half_close(c, header.substr(10), random_bytes(100000, 2));
            const auto l = out.find("[2001:db8::1]:5000");
            expect(echoed && l.find("\"value\": \"example.test\"") != std::string::npos &&
                       l.find("\"name\": \"ssl_version\"") != std::string::npos &&
                       l.find("\"value\": \"h2\"") != std::string::npos,
                   "PROXY v2 TCP6 with ALPN, authority, SSL TLVs", l);
        }
        {
            client c(port);
            const bool echoed = c.send(v2_header(0x20, 0x00, "") + "ping") && c.read(4) == "ping";
            const auto l = out.find("\"LOCAL\"");
            expect(echoed && !l.empty(), "PROXY v2 LOCAL accepted", l);
        }
        {
            client c(port);
            c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            std::string rest;
            const bool closed = c.read_to_eof(rest) && rest.empty();
            const auto l = out.find("no PROXY header");
            expect(closed && !l.empty(), "no header: error line, connection closed", l);
        }
        {
            client c(port);
            c.send("PROXY TCP4 192.0.2.1");
            std::string rest;
            const bool closed = c.read_to_eof(rest) && rest.empty();
            expect(closed && !out.find("timeout waiting").empty(), "incomplete header: closed after --header-timeout");
        }
    }
    {
        server limited(make_config(false, 2, nullptr));
        limited.start();
        const auto port = limited.local().port();
        auto a = std::make_unique<client>(port);
        client b(port), c(port);
        const bool two = a->send("a") && a->read(1) == "a" && b.send("b") && b.read(1) == "b";
        const bool third_waits = c.send("c") && c.silent_for(300);
        a.reset();
        const bool third_served = c.read(1) == "c";
        expect(two && third_waits && third_served, "--max-connections 2: third waits, served once one closes",
               "first two " + std::to_string(two) + ", third waited " + std::to_string(third_waits) +
                   ", third served " + std::to_string(third_served));
    }
    std::printf("echo selftest: %s\n", failures ? "FAILED" : "all ok");
    return failures ? 1 : 0;
}

}  // namespace echo
