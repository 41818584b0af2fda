// Test client for the Wine suite's TLS posture check (tls-posture.sh): one TLS handshake with
// tlsbroker.exe from a client that runs the exe's own OpenSSL (the same static 3.5 build), so
// the check can offer what only that line of OpenSSL knows (X25519MLKEM768) without building
// a second, native OpenSSL for the host.
//   tls-probe PORT [--groups LIST] [--max-version 1.1|1.2|1.3] [--echo BYTES]
// Connects to 127.0.0.1:PORT (server name "localhost", no certificate verification: the
// posture is under test, not the chain), prints "version: TLSv1.3" and "group: NAME", and with
// --echo sends BYTES pseudo-random bytes and prints "echo: ok" when the same bytes came back.
// Exit status: 0 when the handshake (and the echo) succeeded.
#include <winsock2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <ws2tcpip.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

int usage() {
    std::fprintf(stderr, "usage: tls-probe PORT [--groups LIST] [--max-version 1.1|1.2|1.3] [--echo BYTES]\n");
    return 2;
}

int fail(const char* what) {
    std::fprintf(stderr, "tls-probe: %s", what);
    ERR_print_errors_fp(stderr);
    std::fprintf(stderr, "\n");
    return 1;
}

int version_of(const std::string& v) {
    if (v == "1.1") return TLS1_1_VERSION;
    if (v == "1.2") return TLS1_2_VERSION;
    if (v == "1.3") return TLS1_3_VERSION;
    return 0;
}

// Sends `out` and reads as many bytes back, alternating so neither side's buffers fill.
bool echo(SSL* ssl, const std::vector<unsigned char>& out) {
    std::vector<unsigned char> back;
    back.reserve(out.size());
    std::size_t sent = 0;
    unsigned char buf[16384];
    while (back.size() < out.size()) {
        if (sent < out.size()) {
            const auto chunk = std::min<std::size_t>(4096, out.size() - sent);
            std::size_t n = 0;
            if (SSL_write_ex(ssl, out.data() + sent, chunk, &n) != 1) return false;
            sent += n;
        }
        if (back.size() < sent) {
            std::size_t n = 0;
            if (SSL_read_ex(ssl, buf, std::min(sizeof buf, sent - back.size()), &n) != 1) return false;
            back.insert(back.end(), buf, buf + n);
        }
    }
    return back == out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    const int port = std::atoi(argv[1]);
    std::string groups;
    int max_version = 0;
    long echo_bytes = 0;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        if (a == "--groups")
            groups = argv[++i];
        else if (a == "--max-version")
            max_version = version_of(argv[++i]);
        else if (a == "--echo")
            echo_bytes = std::atol(argv[++i]);
        else
            return usage();
    }
    if (port <= 0 || port > 65535 || echo_bytes < 0) return usage();

    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return fail("WSAStartup failed");
    const SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<u_short>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET || connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
        return fail("cannot connect");
    DWORD timeout_ms = 20000;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&timeout_ms), sizeof timeout_ms);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&timeout_ms), sizeof timeout_ms);

    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) return fail("SSL_CTX_new failed");
    if (max_version != 0) {
        // Offer the old versions too: the library's floor and security level would refuse them
        // before the server had a say.
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, max_version);
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_cipher_list(ctx, "DEFAULT@SECLEVEL=0");
    }
    if (!groups.empty() && SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) return fail("bad --groups");
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, static_cast<int>(s));
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (SSL_connect(ssl) != 1) return fail("handshake failed: ");
    const char* group = SSL_get0_group_name(ssl);
    std::printf("version: %s\ngroup: %s\n", SSL_get_version(ssl), group != nullptr ? group : "none");
    if (echo_bytes > 0) {
        std::vector<unsigned char> out(static_cast<std::size_t>(echo_bytes));
        std::mt19937 rng(42);
        for (auto& b : out) b = static_cast<unsigned char>(rng());
        if (!echo(ssl, out)) return fail("echo failed: ");
        std::printf("echo: ok\n");
    }
    std::fflush(stdout);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    closesocket(s);
    WSACleanup();
    return 0;
}
