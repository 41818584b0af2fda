// Measures what a listening-socket re-creation (the watchdog's step 2) keeps on this
// platform, with the product's own listener: N connections wait in the accept queue (the
// listener is paused at max_connections by two open clients), the socket is re-created, and each queued
// client is checked: accepted and still open, or lost. Meanwhile a thread keeps connecting
// and counts connects refused. Run under Wine by scripts/measure-recreate-wine.sh; prints
// one JSON line. Usage: recreate-measure.exe CONFIG N
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "config/loader.hpp"
#include "core/common/counters.hpp"
#include "core/listener/listener.hpp"
#include "core/server/server.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::uint64_t get(const core::server& s, core::counter c) { return s.listener_counters().at(0).second->get(c); }

template <typename F>
bool wait_for(F f, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return f();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: recreate-measure CONFIG N\n");
        return 2;
    }
    const auto r = config::load_file(argv[1]);
    if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.errors.front().to_string().c_str());
        return 2;
    }
    const int n = std::atoi(argv[2]);
    core::server srv(r.config);
    srv.start();
    std::thread runner([&] { srv.run(); });
    const auto ep = srv.listener_endpoints().at(0);
    auto l = srv.listener_at(0);
    srv.post([] { std::fprintf(stderr, "measure: the event loop runs at start\n"); });
    asio::io_context io;
    auto connect = [&](tcp::socket& s) {
        boost::system::error_code ec;
        s.connect(ep, ec);
        return !ec;
    };
    tcp::socket first(io), second(io);
    if (!connect(first) || !wait_for([&] { return get(srv, core::counter::connections_accepted) >= 1; }, 5s)) {
        std::fprintf(stderr, "the broker does not accept\n");
        return 1;
    }
    auto loop_runs = [&](const char* when) {
        std::atomic<bool> ran{false};
        srv.post([&] { ran = true; });
        std::fprintf(stderr, "measure: event loop %s: %s\n", when,
                     wait_for([&] { return ran.load(); }, 2s) ? "runs" : "blocked");
    };
    loop_runs("after the first client");
    // With max_connections 2 in the config, the two open clients pause the listener: no
    // accept is outstanding and new connections wait in the queue.
    connect(second);
    wait_for([&] { return get(srv, core::counter::connections_accepted) >= 2; }, 5s);
    wait_for([&] { return l->state() == core::listener_state::paused_at_limit; }, 5s);
    loop_runs("after the second client");
    std::vector<std::unique_ptr<tcp::socket>> queued;
    int connect_failed = 0;
    for (int i = 0; i < n; ++i) {
        queued.push_back(std::make_unique<tcp::socket>(io));
        if (!connect(*queued.back())) ++connect_failed;
    }
    const auto before = get(srv, core::counter::connections_accepted);
    std::fprintf(stderr, "measure: %d connected (%d failed), re-creating\n", n - connect_failed, connect_failed);
    {
        std::atomic<bool> ran{false};
        srv.post([&] { ran = true; });
        std::fprintf(stderr, "measure: event loop after queueing: %s\n",
                     wait_for([&] { return ran.load(); }, 2s) ? "runs" : "blocked");
    }

    std::atomic<bool> run{true};
    std::atomic<int> newcomers_ok{0}, newcomers_refused{0};
    std::thread newcomers([&] {
        asio::io_context io2;
        while (run) {
            tcp::socket s(io2);
            boost::system::error_code ec;
            s.connect(ep, ec);
            if (ec)
                ++newcomers_refused;
            else
                ++newcomers_ok;
            std::this_thread::sleep_for(1ms);
        }
    });
    std::this_thread::sleep_for(100ms);
    const auto t0 = std::chrono::steady_clock::now();
    l->recover_recreate();
    srv.post([] { std::fprintf(stderr, "measure: the event loop runs\n"); });
    wait_for([&] { return get(srv, core::counter::listener_recreations) >= 1; }, 5s);
    const auto recreate_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "measure: re-created in %lld ms (state %s)\n", static_cast<long long>(recreate_ms),
                 core::to_string(l->state()));
    wait_for([&] { return get(srv, core::counter::connections_accepted) >= before + n; }, 5s);
    std::this_thread::sleep_for(300ms);
    run = false;
    std::fprintf(stderr, "measure: stopping the newcomers\n");
    newcomers.join();
    std::fprintf(stderr, "measure: checking the queued clients\n");

    // A kept client is still open (its session waits for a ClientHello); a lost one was reset.
    int alive = 0, lost = 0;
    for (auto& s : queued) {
        boost::system::error_code ec;
        s->non_blocking(true, ec);
        char b;
        s->read_some(asio::buffer(&b, 1), ec);
        if (ec == asio::error::would_block)
            ++alive;
        else
            ++lost;
    }
    std::printf(
        "{\"queued\": %d, \"queued_connect_failed\": %d, \"accepted_from_queue\": %llu, \"alive\": %d, "
        "\"lost\": %d, \"recreations\": %llu, \"recreate_ms\": %lld, \"newcomers_ok\": %d, "
        "\"newcomers_refused\": %d}\n",
        n, connect_failed, static_cast<unsigned long long>(get(srv, core::counter::connections_accepted) - before),
        alive, lost, static_cast<unsigned long long>(get(srv, core::counter::listener_recreations)),
        static_cast<long long>(recreate_ms), newcomers_ok.load(), newcomers_refused.load());
    std::fflush(stdout);
    queued.clear();
    srv.request_stop();
    runner.join();
    return 0;
}
