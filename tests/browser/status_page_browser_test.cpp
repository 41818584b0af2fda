// The status page in a real browser (headless Chromium): it renders every configured
// listener with its state from its own same-origin fetch of /status (which the endpoint
// would refuse with 403 if the browser sent Origin), refreshes itself, and its numbers
// follow the load: active connections go from 0 to N while the test holds N connections.
// Skipped only when no Chromium is installed (scripts/install-deps.sh installs it).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

// TLSBROKER_CHROMIUM names another browser binary (a path that does not exist: skip).
std::string find_chromium() {
    if (const char* env = std::getenv("TLSBROKER_CHROMIUM"))
        return std::filesystem::exists(env) ? std::string(env) : std::string();
    for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
        if (std::filesystem::exists(p)) return p;
    return {};
}

// The page's DOM after `budget_ms` of virtual time (its timers run that long; fetches are real).
std::string dump_dom(const std::string& chromium, const std::string& url, int budget_ms) {
    const auto profile = test::make_temp_dir("chromium-profile");
    const auto cmd = "timeout 90 " + chromium +
                     " --headless --no-sandbox --disable-gpu --disable-background-networking"
                     " --disable-component-update --disable-sync --no-first-run --no-default-browser-check"
                     " --user-data-dir=" +
                     profile.string() + " --virtual-time-budget=" + std::to_string(budget_ms) + " --dump-dom '" + url +
                     "' 2>" + (profile / "stderr.txt").string();
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), &::pclose);
    std::string out;
    if (!p) return out;
    char buf[4096];
    while (const auto n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
    return out;
}

std::string listener_row(const std::string& name, const std::string& state, std::size_t active) {
    return "data-listener=\"" + name + "\" data-state=\"" + state + "\" data-active=\"" + std::to_string(active) + "\"";
}

int refreshes(const std::string& dom) {
    std::smatch m;
    static const std::regex re("data-count=\"(\\d+)\"");
    return std::regex_search(dom, m, re) ? std::stoi(m[1]) : -1;
}

}  // namespace

TEST(status_page_browser, shows_every_listener_and_follows_the_load) {
    const auto chromium = find_chromium();
    if (chromium.empty()) GTEST_SKIP() << "no Chromium installed (scripts/install-deps.sh installs it)";

    test::echo_backend backend;
    const auto second = test::make_self_signed(test::make_temp_dir("page-second"), "second");
    test::broker_harness broker(
        backend.port(), {{"watchdog", {{"enabled", true}, {"probe_interval_ms", 300}, {"probe_timeout_ms", 200}}},
                         {"listeners",
                          {nlohmann::json::object(),
                           {{"name", "second"},
                            {"listen", "127.0.0.1:0"},
                            {"tls", {{"certificate", second.cert.string()}, {"private_key", second.key.string()}}},
                            {"backend", {{"address", "127.0.0.1:" + std::to_string(backend.port())}}}}}}});
    const auto url = "http://127.0.0.1:" + std::to_string(broker.status_port()) + "/";

    // Idle: both listeners accepting, nobody connected; the page has refreshed itself.
    const auto idle = dump_dom(chromium, url, 5000);
    ASSERT_NE(idle.find("<h1>tlsbroker</h1>"), std::string::npos) << idle.substr(0, 2000);
    // The error line stays hidden: every fetch of /status succeeded (no 403 for an Origin header).
    EXPECT_NE(idle.find("<p id=\"error\" hidden=\"\"></p>"), std::string::npos) << idle;
    EXPECT_NE(idle.find(listener_row("test", "accepting", 0)), std::string::npos) << idle;
    EXPECT_NE(idle.find(listener_row("second", "accepting", 0)), std::string::npos) << idle;
    EXPECT_GE(refreshes(idle), 2) << idle;
    EXPECT_NE(idle.find("data-backend=\"127.0.0.1:" + std::to_string(backend.port()) + "\" data-up=\"true\""),
              std::string::npos)
        << idle;
    EXPECT_NE(idle.find("data-certificate=\"default\""), std::string::npos) << idle;
    EXPECT_NE(idle.find(">healthy<"), std::string::npos) << idle;

    // Under load: N connections held on the first listener.
    constexpr std::size_t n = 5;
    std::vector<std::unique_ptr<test::tls_client>> held;
    for (std::size_t i = 0; i < n; ++i) {
        held.push_back(std::make_unique<test::tls_client>());
        std::string got;
        ASSERT_TRUE(held.back()->open(broker.port(0)) && held.back()->write_all("x") &&
                    held.back()->read_exact(1, got));
    }
    ASSERT_TRUE(test::wait_until([&] { return broker.counter(core::counter::connections_active) == n; }, 5s));
    const auto busy = dump_dom(chromium, url, 5000);
    EXPECT_NE(busy.find(listener_row("test", "accepting", n)), std::string::npos) << busy;
    EXPECT_NE(busy.find(listener_row("second", "accepting", 0)), std::string::npos) << busy;
}
