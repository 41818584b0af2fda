// The backend resolver with a lookup function the test controls: one lookup per name at a
// time whatever the number of waiting sessions, a dropped wait leaves nothing behind, a failed
// lookup is counted and the last good addresses stay, literal addresses need no lookup.
#include "core/backend/backend_resolver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <mutex>
#include <thread>

#include "support/io_thread.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::vector<config::backend_config> one_backend(const std::string& host, std::uint16_t port = 7000) {
    config::backend_config b;
    b.address = {host, port, host + ":" + std::to_string(port)};
    return {b};
}

// A lookup function that keeps every lookup pending until the test answers it, and notes
// how many ran at once.
struct held_lookups {
    std::mutex mu;
    std::vector<core::backend_resolver::resolve_done> pending;
    int calls = 0;
    int most_at_once = 0;

    core::backend_resolver::resolve_fn fn() {
        return [this](const std::string&, std::uint16_t, core::backend_resolver::resolve_done done) {
            std::lock_guard lock(mu);
            ++calls;
            pending.push_back(std::move(done));
            most_at_once = std::max(most_at_once, static_cast<int>(pending.size()));
        };
    }
    int count() {
        std::lock_guard lock(mu);
        return calls;
    }
    // Answers the oldest pending lookup.
    bool answer(const boost::system::error_code& ec, core::backend_resolver::endpoints found) {
        core::backend_resolver::resolve_done d;
        {
            std::lock_guard lock(mu);
            if (pending.empty()) return false;
            d = std::move(pending.front());
            pending.erase(pending.begin());
        }
        d(ec, std::move(found));
        return true;
    }
};

const tcp::endpoint first_address{asio::ip::make_address("127.0.0.1"), 7000};

}  // namespace

TEST(backend_resolver, many_waiting_sessions_share_one_lookup_of_a_name) {
    test::io_thread l;
    held_lookups h;
    core::backend_resolver::options o;
    o.resolve = h.fn();
    auto r = std::make_shared<core::backend_resolver>("t", one_backend("localhost"), std::nullopt, o);
    r->start(l.ioc);
    ASSERT_TRUE(test::wait_until([&] { return h.count() == 1; }, 5s));
    std::atomic<int> woken{0};
    std::vector<core::resolve_wait> waits;
    for (int i = 0; i < 50; ++i) {
        auto found = r->addresses(0, l.ioc.get_executor(), [&] { ++woken; });
        EXPECT_FALSE(found.ready);
        waits.push_back(std::move(found.pending));
    }
    EXPECT_EQ(r->waiting(), 50u);
    EXPECT_EQ(r->lookups_in_flight(), 1u);
    EXPECT_EQ(h.count(), 1);
    ASSERT_TRUE(h.answer({}, {first_address}));
    ASSERT_TRUE(test::wait_until([&] { return woken == 50; }, 5s));
    EXPECT_EQ(r->waiting(), 0u);
    const auto now = r->addresses(0, l.ioc.get_executor(), [] {});
    ASSERT_TRUE(now.ready);
    ASSERT_EQ(now.addresses.size(), 1u);
    EXPECT_EQ(now.addresses[0], first_address);
    EXPECT_EQ(h.count(), 1);  // the cached result, no lookup of its own
    r->stop();
}

TEST(backend_resolver, a_dropped_wait_leaves_nothing_behind) {
    test::io_thread l;
    held_lookups h;
    core::backend_resolver::options o;
    o.resolve = h.fn();
    auto r = std::make_shared<core::backend_resolver>("t", one_backend("localhost"), std::nullopt, o);
    r->start(l.ioc);
    std::atomic<int> woken{0};
    {
        auto found = r->addresses(0, l.ioc.get_executor(), [&] { ++woken; });
        ASSERT_FALSE(found.ready);
        EXPECT_EQ(r->waiting(), 1u);
    }  // the session gave up
    EXPECT_EQ(r->waiting(), 0u);
    ASSERT_TRUE(test::wait_until([&] { return h.answer({}, {first_address}); }, 5s));
    ASSERT_TRUE(test::wait_until([&] { return r->addresses(0, l.ioc.get_executor(), [] {}).ready; }, 5s));
    // Whatever was posted has run by now: a marker posted after the answer has run.
    std::atomic<bool> marker{false};
    asio::post(l.ioc, [&] { marker = true; });
    ASSERT_TRUE(test::wait_until([&] { return marker.load(); }, 5s));
    EXPECT_EQ(woken, 0);
    r->stop();
}

TEST(backend_resolver, a_failed_lookup_is_counted_and_the_last_good_addresses_stay) {
    test::io_thread l;
    held_lookups h;
    core::counter_block own, total;
    core::backend_resolver::options o;
    o.resolve = h.fn();
    o.refresh = 20ms;
    o.retry = 10ms;
    auto r = std::make_shared<core::backend_resolver>("t", one_backend("localhost"), core::counters(own, total), o);
    r->start(l.ioc);
    ASSERT_TRUE(test::wait_until([&] { return h.answer({}, {first_address}); }, 5s));
    // Every later lookup fails; each one starts only after the one before has ended.
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(test::wait_until([&] { return h.answer(asio::error::host_not_found, {}); }, 5s));
    ASSERT_TRUE(test::wait_until([&] { return own.get(core::counter::backend_resolve_failures) == 3; }, 5s));
    EXPECT_EQ(total.get(core::counter::backend_resolve_failures), 3u);
    const auto now = r->addresses(0, l.ioc.get_executor(), [] {});
    ASSERT_TRUE(now.ready);
    ASSERT_EQ(now.addresses.size(), 1u);
    EXPECT_EQ(now.addresses[0], first_address);
    r->stop();
    std::lock_guard lock(h.mu);
    EXPECT_EQ(h.most_at_once, 1);
}

TEST(backend_resolver, a_first_lookup_that_fails_wakes_its_waiters_with_no_address) {
    test::io_thread l;
    held_lookups h;
    core::counter_block own, total;
    core::backend_resolver::options o;
    o.resolve = h.fn();
    auto r = std::make_shared<core::backend_resolver>("t", one_backend("localhost"), core::counters(own, total), o);
    r->start(l.ioc);
    std::atomic<int> woken{0};
    auto found = r->addresses(0, l.ioc.get_executor(), [&] { ++woken; });
    ASSERT_FALSE(found.ready);
    ASSERT_TRUE(test::wait_until([&] { return h.answer(asio::error::host_not_found, {}); }, 5s));
    ASSERT_TRUE(test::wait_until([&] { return woken == 1; }, 5s));
    const auto now = r->addresses(0, l.ioc.get_executor(), [] {});
    EXPECT_TRUE(now.ready);
    EXPECT_TRUE(now.addresses.empty());
    EXPECT_EQ(own.get(core::counter::backend_resolve_failures), 1u);
    r->stop();
}

TEST(backend_resolver, a_literal_address_never_goes_through_a_lookup) {
    test::io_thread l;
    held_lookups h;
    core::backend_resolver::options o;
    o.resolve = h.fn();
    auto r = std::make_shared<core::backend_resolver>("t", one_backend("127.0.0.1"), std::nullopt, o);
    r->start(l.ioc);
    const auto now = r->addresses(0, l.ioc.get_executor(), [] {});
    ASSERT_TRUE(now.ready);
    ASSERT_EQ(now.addresses.size(), 1u);
    EXPECT_EQ(now.addresses[0], first_address);
    EXPECT_FALSE(r->is_name(0));
    std::atomic<bool> marker{false};
    asio::post(l.ioc, [&] { marker = true; });
    ASSERT_TRUE(test::wait_until([&] { return marker.load(); }, 5s));
    EXPECT_EQ(h.count(), 0);
    r->stop();
}

TEST(backend_resolver, the_system_resolver_finds_localhost) {
    test::io_thread l;
    auto r = std::make_shared<core::backend_resolver>("t", one_backend("localhost"), std::nullopt,
                                                      core::backend_resolver::options{});
    r->start(l.ioc);
    ASSERT_TRUE(test::wait_until([&] { return r->addresses(0, l.ioc.get_executor(), [] {}).ready; }, 10s));
    const auto now = r->addresses(0, l.ioc.get_executor(), [] {});
    ASSERT_FALSE(now.addresses.empty());
    for (const auto& e : now.addresses) EXPECT_TRUE(e.address().is_loopback()) << e;
    EXPECT_EQ(r->lookups_started(), 1u);
    r->stop();
}
