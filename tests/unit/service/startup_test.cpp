// The start-up sequence both entry points run (service/startup.hpp): every config problem
// with its JSON pointer and exit code 1, a platform hook that refuses stops it before the log
// is opened, a bind failure is exit code 2, and a good config starts the server after the
// hooks, in order.
#include "service/startup.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <vector>

#include "core/common/exit_codes.hpp"
#include "core/common/log.hpp"
#include "support/broker_harness.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;

namespace {

bool has(const std::vector<std::string>& lines, const std::string& part) {
    return std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l.find(part) != std::string::npos; });
}

std::filesystem::path good_config(const std::filesystem::path& dir, const std::string& listen = "") {
    auto j = test::base_config(dir, 9);
    if (!listen.empty()) j["listeners"][0]["listen"] = listen;
    const auto file = dir / "tlsbroker.json";
    test::write_file(file, j.dump(2));
    return file;
}

}  // namespace

TEST(startup, invalid_config_reports_every_problem_with_its_pointer_as_exit_code_1) {
    const auto dir = test::make_temp_dir("startup-invalid");
    auto j = test::base_config(dir, 9);
    j["threads"] = -1;
    j["listeners"][0]["listen"] = "0.0.0.0:99999";
    test::write_file(dir / "bad.json", j.dump(2));
    bool checked = false;
    service::startup_hooks hooks;
    hooks.check_config = [&](const auto&, const auto&) -> std::optional<service::startup_failure> {
        checked = true;
        return std::nullopt;
    };
    const auto s = service::start_broker(dir / "bad.json", hooks);
    EXPECT_FALSE(s.server);
    EXPECT_FALSE(checked);  // platform checks only ever see a valid config
    EXPECT_EQ(s.failure.code, exit_code::config_invalid);
    EXPECT_TRUE(has(s.failure.problems, "/threads")) << s.failure.what;
    EXPECT_TRUE(has(s.failure.problems, "/listeners/0/listen")) << s.failure.what;
    EXPECT_NE(s.failure.what.find("is invalid:"), std::string::npos) << s.failure.what;
    EXPECT_NE(s.failure.what.find("/listeners/0/listen"), std::string::npos) << s.failure.what;
}

TEST(startup, a_hook_that_refuses_stops_the_start_before_the_log_is_opened) {
    const auto dir = test::make_temp_dir("startup-refused");
    const auto file = good_config(dir);
    bool log_opened = false, before_server = false;
    service::startup_hooks hooks;
    hooks.check_config = [](const auto&, const auto&) -> std::optional<service::startup_failure> {
        return service::startup_failure{exit_code::config_insecure, "others may change it", {}};
    };
    hooks.log_opened = [&] { log_opened = true; };
    hooks.before_server = [&](const auto&) { before_server = true; };
    const auto s = service::start_broker(file, hooks);
    EXPECT_FALSE(s.server);
    EXPECT_EQ(s.failure.code, exit_code::config_insecure);
    EXPECT_EQ(s.failure.what, "others may change it");
    EXPECT_FALSE(log_opened);
    EXPECT_FALSE(before_server);
}

TEST(startup, a_port_in_use_is_exit_code_2_naming_the_listener) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor taken(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto dir = test::make_temp_dir("startup-bind");
    const auto listen = "127.0.0.1:" + std::to_string(taken.local_endpoint().port());
    const auto file = good_config(dir, listen);
    const auto s = service::start_broker(file);
    EXPECT_FALSE(s.server);
    EXPECT_EQ(s.failure.code, exit_code::start_failed);
    EXPECT_NE(s.failure.what.find("cannot listen on " + listen), std::string::npos) << s.failure.what;
}

TEST(startup, a_good_config_starts_the_server_after_the_hooks_in_order) {
    const auto dir = test::make_temp_dir("startup-ok");
    const auto file = good_config(dir);
    std::vector<std::string> order;
    service::startup_hooks hooks;
    hooks.check_config = [&](const std::filesystem::path& f, const auto&) -> std::optional<service::startup_failure> {
        order.push_back("check " + f.filename().string());
        return std::nullopt;
    };
    hooks.log_opened = [&] { order.push_back("log"); };
    hooks.before_server = [&](const config::broker_config& c) {
        order.push_back("before " + std::to_string(c.listeners.size()));
    };
    auto s = service::start_broker(file, hooks);
    ASSERT_TRUE(s.server) << s.failure.what;
    EXPECT_EQ(order, (std::vector<std::string>{"check tlsbroker.json", "log", "before 1"}));
    EXPECT_NE(s.server->listener_endpoints().at(0).port(), 0);
    s.server.reset();
    log::shutdown();
}
