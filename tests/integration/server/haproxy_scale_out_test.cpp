// service/README.md's "Scale out" set-up, end to end: HAProxy in TCP mode with send-proxy-v2 in
// front of two brokers on loopback. One broker is stopped mid-run; no client is lost but
// those whose connections it held. Skipped when haproxy is not installed. Bounded: its
// waits add up to under a minute (a normal run takes about half a second).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string find_haproxy() {
    for (const char* p : {"/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy", "/usr/local/bin/haproxy"})
        if (::access(p, X_OK) == 0) return p;
    return {};
}

// haproxy -db (foreground) for the test's lifetime.
class haproxy_process {
public:
    haproxy_process(const std::string& exe, const std::filesystem::path& cfg, const std::filesystem::path& log) {
        pid_ = ::fork();
        if (pid_ == 0) {
            const auto out = log.string();
            std::FILE* f = std::freopen(out.c_str(), "w", stdout);
            if (f != nullptr) ::dup2(::fileno(stdout), 2);
            const auto c = cfg.string();
            ::execl(exe.c_str(), exe.c_str(), "-db", "-f", c.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~haproxy_process() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int st = 0;
        for (int i = 0; i < 200 && ::waitpid(pid_, &st, WNOHANG) == 0; ++i) std::this_thread::sleep_for(10ms);
        if (::waitpid(pid_, &st, WNOHANG) == 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &st, 0);
        }
    }
    bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

private:
    pid_t pid_ = -1;
};

// A broker process (as operators run it) with accept_proxy v2 from loopback, the balancer.
struct broker_process {
    std::unique_ptr<test::process> proc;
    std::uint16_t port = 0;
    std::uint16_t status_port = 0;

    broker_process(const std::filesystem::path& dir, std::uint16_t backend_port) {
        auto cfg = test::base_config(dir, backend_port);
        test::merge(cfg, {{"log", {{"level", "info"}}},
                          {"listeners", json::array({{{"accept_proxy", "v2"},
                                                      {"trusted_proxies", {"127.0.0.1"}},
                                                      {"proxy_protocol", "v2"},
                                                      {"connection_log", false},
                                                      {"timeouts", {{"drain_ms", 200}}}}})}});
        auto b = test::start_broker_process(dir, cfg);
        proc = std::move(b.proc);
        port = b.port;
        status_port = b.status_port;
    }
    // A listener counter from /status (-1 when unreachable).
    long long counter(const char* key) const {
        int status = 0;
        const auto body = test::http_get(status_port, "/status", status);
        if (status != 200) return -1;
        return json::parse(body)["listeners"][0]["counters"].value(key, -1LL);
    }
};

bool echoes(test::tls_client& c, const std::string& msg) {
    std::string got;
    return c.write_all(msg) && c.read_exact(msg.size(), got) && got == msg;
}

}  // namespace

TEST(haproxy_scale_out, one_broker_stopped_loses_only_its_connections) {
    const auto exe = find_haproxy();
    if (exe.empty()) GTEST_SKIP() << "haproxy is not installed (scripts/install-deps.sh installs it)";

    test::echo_backend::options o;
    o.expect_proxy = true;
    test::echo_backend backend(o);
    const auto dir = test::make_temp_dir("scale-out");
    std::filesystem::create_directories(dir / "a");
    std::filesystem::create_directories(dir / "b");
    broker_process a(dir / "a", backend.port());
    broker_process b(dir / "b", backend.port());
    ASSERT_NE(a.port, 0) << a.proc->output();
    ASSERT_NE(b.port, 0) << b.proc->output();

    const auto front = test::unused_port();
    {
        std::ofstream cfg(dir / "haproxy.cfg");
        cfg << "global\n  maxconn 2000\n"
               "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n"
               "  retries 3\n  option redispatch 1\n"
               "frontend tls_in\n  bind 127.0.0.1:"
            << front
            << "\n  default_backend brokers\n"
               "backend brokers\n  balance roundrobin\n"
               "  server broker1 127.0.0.1:"
            << a.port
            << " send-proxy-v2 check inter 200ms fall 1 rise 2\n"
               "  server broker2 127.0.0.1:"
            << b.port << " send-proxy-v2 check inter 200ms fall 1 rise 2\n";
    }
    haproxy_process haproxy(exe, dir / "haproxy.cfg", dir / "haproxy.log");
    ASSERT_TRUE(test::wait_until([&] { return test::round_trip(front, "ready"); }, 5s))
        << "haproxy did not come up; see " << (dir / "haproxy.log");

    // Long-lived clients, spread over both brokers.
    constexpr int held = 10;
    std::vector<std::unique_ptr<test::tls_client>> clients;
    for (int i = 0; i < held; ++i) {
        clients.push_back(std::make_unique<test::tls_client>());
        ASSERT_TRUE(clients.back()->open(front)) << clients.back()->error();
        ASSERT_TRUE(echoes(*clients.back(), "hello " + std::to_string(i)));
    }
    const auto on_a = a.counter("connections_active");
    ASSERT_GT(on_a, 0);
    ASSERT_GT(b.counter("connections_active"), 0);

    // The real client address reached the backend through HAProxy and a broker: the
    // backend's header carries the client's own port, not HAProxy's.
    std::set<std::uint16_t> client_ports;
    for (const auto& c : clients) {
        sockaddr_in local{};
        socklen_t len = sizeof local;
        ::getsockname(c->fd(), reinterpret_cast<sockaddr*>(&local), &len);
        client_ports.insert(ntohs(local.sin_port));
    }
    std::size_t named = 0;
    for (const auto& h : backend.proxy_headers()) named += client_ports.count(h.source.port());
    EXPECT_EQ(named, static_cast<std::size_t>(held));

    // Short connections keep coming while broker 1 stops.
    std::atomic<bool> done{false};
    std::atomic<int> ok_before{0}, ok_after{0}, failed{0};
    std::atomic<bool> a_stopped{false};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w)
        workers.emplace_back([&, w] {
            for (int n = 0; !done.load(); ++n) {
                const bool after = a_stopped.load();
                if (test::round_trip(front, "w" + std::to_string(w) + "-" + std::to_string(n)))
                    ++(after ? ok_after : ok_before);
                else
                    ++failed;
            }
        });
    const bool ran = test::wait_until([&] { return ok_before.load() >= 20; }, 5s);
    if (ran) {
        a.proc->signal(SIGTERM);
        EXPECT_EQ(a.proc->wait_exit(5s), 0);
        a_stopped = true;
        EXPECT_TRUE(test::wait_until([&] { return ok_after.load() >= 40; }, 10s))
            << "ok after " << ok_after << ", failed " << failed;
    }
    done = true;
    for (auto& t : workers) t.join();
    ASSERT_TRUE(ran) << "ok before " << ok_before << ", failed " << failed;

    std::printf("scale-out: %d held (%lld on broker 1), %d ok before the stop, %d after, %d failed\n", held,
                static_cast<long long>(on_a), ok_before.load(), ok_after.load(), failed.load());
    // At most the connection each worker had in flight on broker 1 when it stopped.
    EXPECT_LE(failed.load(), 4) << "ok before " << ok_before << ", after " << ok_after;
    // The held clients: those on broker 1 are gone, every other one still echoes.
    int lost = 0;
    for (auto& c : clients) {
        c->set_timeout(1s);
        if (!echoes(*c, "still there?")) ++lost;
    }
    EXPECT_EQ(lost, static_cast<int>(on_a));
    EXPECT_TRUE(haproxy.running());
    EXPECT_EQ(b.counter("rejected_proxy_untrusted") + b.counter("rejected_proxy_missing") +
                  b.counter("rejected_proxy_invalid"),
              0);
    EXPECT_GE(b.counter("proxy_headers_ok"), 40);
}
