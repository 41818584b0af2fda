// The certificate watch without a server: it runs on the io_context it is given, a file that
// keeps changing is never loaded (debounce), a settled change is applied once, and a refused
// content is counted once.
#include "core/health/cert_watch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "config/loader.hpp"
#include "config/tls_checks.hpp"
#include "support/io_thread.hpp"
#include "support/test_certs.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

// An event loop on a thread of the test, standing in for the broker's control loop.
struct watch_fixture {
    test::io_thread events;  // outlives the watch, which each test declares after the fixture
    std::filesystem::path dir = test::make_temp_dir("cert-watch");
    test::cert_files certs = test::make_self_signed(dir);
    std::mutex mu;
    config::config_ptr cfg;
    std::atomic<int> applied{0};
    std::string refuse_with;  // apply answers this when set
    core::counter_block total;
    std::mutex threads_mu;
    std::set<std::thread::id> threads;  // where current() was called from

    watch_fixture() {
        const nlohmann::json j = {
            {"tls", {{"reload_check_s", 1}}},
            {"listeners",
             {{{"listen", "127.0.0.1:8443"},
               {"tls", {{"certificate", certs.cert.string()}, {"private_key", certs.key.string()}}},
               {"backend", {{"address", "127.0.0.1:9000"}}}}}}};
        const auto r = config::load_text(j.dump(), dir);
        EXPECT_TRUE(r.ok());
        cfg = r.config;
    }
    core::cert_watch_hooks hooks() {
        core::cert_watch_hooks h;
        h.current = [this] {
            {
                std::lock_guard lock(threads_mu);
                threads.insert(std::this_thread::get_id());
            }
            std::lock_guard lock(mu);
            return cfg;
        };
        h.apply = [this](config::config_ptr c) {
            std::lock_guard lock(mu);
            if (!refuse_with.empty()) return refuse_with;
            ++applied;
            cfg = std::make_shared<const config::broker_config>(*c);  // as the server's reload does
            return std::string();
        };
        return h;
    }
    void refuse(bool on) {
        std::lock_guard lock(mu);
        refuse_with = on ? "listener 'x': TLS: boom" : "";
    }
    std::string cert_text() const {
        std::ifstream f(certs.cert, std::ios::binary);
        std::ostringstream s;
        s << f.rdbuf();
        return s.str();
    }
};

int checks(const core::cert_watch& w) { return w.status()["checks"].get<int>(); }

}  // namespace

TEST(cert_watch, a_file_that_keeps_changing_is_loaded_only_once_it_settles) {
    watch_fixture f;
    core::cert_watch w(f.events.ioc, f.hooks(), f.total);
    w.start();
    const auto text = f.cert_text();
    // Rewritten every 300 ms (new mtime each time) across several 1 s checks: never settled.
    const auto until = checks(w) + 3;
    while (checks(w) < until) {
        test::write_file(f.certs.cert, text);
        test::wait_until([] { return false; }, 300ms);
    }
    EXPECT_EQ(f.applied, 0);
    EXPECT_FALSE(w.status()["settling"].empty()) << w.status().dump();
    // Left alone: applied after one unchanged check, and only once.
    ASSERT_TRUE(test::wait_until([&] { return f.total.get(core::counter::certificate_reloads_ok) == 1; }, 5s));
    const auto after = checks(w);
    ASSERT_TRUE(test::wait_until([&] { return checks(w) >= after + 2; }, 5s));
    EXPECT_EQ(f.applied, 1);
    EXPECT_EQ(f.total.get(core::counter::certificate_reloads_ok), 1u);
    EXPECT_EQ(f.total.get(core::counter::certificate_reloads_failed), 0u);
}

TEST(cert_watch, refused_content_is_counted_once_and_the_next_change_is_tried_again) {
    watch_fixture f;
    f.refuse(true);
    core::cert_watch w(f.events.ioc, f.hooks(), f.total);
    w.start();
    test::write_file(f.certs.cert, f.cert_text());
    ASSERT_TRUE(test::wait_until([&] { return f.total.get(core::counter::certificate_reloads_failed) == 1; }, 5s));
    const auto after = checks(w);
    ASSERT_TRUE(test::wait_until([&] { return checks(w) >= after + 2; }, 5s));
    EXPECT_EQ(f.total.get(core::counter::certificate_reloads_failed), 1u) << "the same content is not retried";
    EXPECT_EQ(w.status()["last_pickup"]["ok"], false);
    EXPECT_EQ(w.status()["last_pickup"]["errors"][0], "listener 'x': TLS: boom");

    f.refuse(false);
    test::write_file(f.certs.cert, f.cert_text());
    // Counted after the pick-up is published.
    ASSERT_TRUE(test::wait_until([&] { return f.total.get(core::counter::certificate_reloads_ok) == 1; }, 5s));
    EXPECT_EQ(f.applied, 1);
    EXPECT_EQ(w.status()["last_pickup"]["ok"], true);
}

TEST(cert_watch, checks_run_on_the_loop_it_is_given_and_stop_ends_them) {
    watch_fixture f;
    core::cert_watch w(f.events.ioc, f.hooks(), f.total);
    w.start();  // the first check runs on the caller's thread, as the server starts it
    const auto after = checks(w);
    ASSERT_TRUE(test::wait_until([&] { return checks(w) >= after + 2; }, 5s));
    {
        std::lock_guard lock(f.threads_mu);
        EXPECT_EQ(f.threads, (std::set<std::thread::id>{std::this_thread::get_id(), f.events.thread.get_id()}))
            << "a check ran on a thread other than the loop's";
    }
    // A changed config is taken stock of at once, on the loop.
    const auto before_kick = checks(w);
    w.config_changed();
    ASSERT_TRUE(test::wait_until([&] { return checks(w) > before_kick; }, 500ms));
    w.request_stop();
    const auto stopped_at = checks(w);
    w.config_changed();
    test::wait_until([] { return false; }, 1500ms);  // longer than reload_check_s
    EXPECT_EQ(checks(w), stopped_at);
}

TEST(cert_watch, watched_files_and_validation_name_the_pointer) {
    watch_fixture f;
    const auto files = core::watched_files(*f.cfg);
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0], f.certs.cert);
    EXPECT_EQ(files[1], f.certs.key);
    EXPECT_TRUE(config::check_tls_files(*f.cfg).empty());
    const auto other = test::make_self_signed(f.dir, "other");
    std::filesystem::copy_file(other.key, f.certs.key, std::filesystem::copy_options::overwrite_existing);
    const auto problems = config::check_tls_files(*f.cfg);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].pointer, "/listeners/0/tls/private_key");
    EXPECT_NE(problems[0].message.find("does not match"), std::string::npos) << problems[0].message;
}
