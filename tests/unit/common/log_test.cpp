#include "core/common/log.hpp"

#include <gtest/gtest.h>

#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/make_shared.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/wait.hpp"

using namespace tlsbroker;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Restores level and rate-limit window after each test.
class log_test : public ::testing::Test {
protected:
    void SetUp() override { saved_ = log::current_level(); }
    void TearDown() override {
        log::set_level(saved_);
        log::set_rate_limit(10000ms);
    }

private:
    log::level saved_ = log::level::info;
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Rate-limit keys live for the whole process; each test run gets keys of its own.
std::string key(const std::string& name) {
    static int run = 0;
    return "unit:" + name + ":" + std::to_string(++run);
}

fs::path fresh_dir(const std::string& name) {
    const auto dir =
        fs::temp_directory_path() /
        ("tlsbroker_log_test_" + name + "_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST(log_level, parse_and_print) {
    log::level l = log::level::info;
    EXPECT_TRUE(log::parse_level("trace", l));
    EXPECT_EQ(l, log::level::trace);
    EXPECT_TRUE(log::parse_level("warning", l));
    EXPECT_EQ(l, log::level::warning);
    EXPECT_TRUE(log::parse_level("error", l));
    EXPECT_EQ(l, log::level::error);
    EXPECT_FALSE(log::parse_level("warn", l));
    EXPECT_FALSE(log::parse_level("", l));
    EXPECT_EQ(l, log::level::error);
    EXPECT_STREQ(log::to_string(log::level::debug), "debug");
    EXPECT_STREQ(log::to_string(log::level::info), "info");
}

TEST(log_format, line_has_local_time_with_milliseconds_and_level) {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 10;
    tm.tm_mday = 23;
    tm.tm_hour = 5;
    tm.tm_min = 13;
    tm.tm_sec = 39;
    tm.tm_isdst = -1;
    const auto when = std::chrono::system_clock::from_time_t(std::mktime(&tm)) + 123ms;
    EXPECT_EQ(log::format_line(when, log::level::warning, "listener 'site' paused"),
              "2026-11-23 05:13:39.123 [warning] listener 'site' paused");
    EXPECT_EQ(log::format_line(when - 123ms + 7ms, log::level::error, ""), "2026-11-23 05:13:39.007 [error] ");
}

TEST_F(log_test, capture_sees_lines_at_or_above_the_level) {
    log::set_level(log::level::info);
    log::capture cap;
    TB_LOG_DEBUG("hidden ", 1);
    TB_LOG_INFO("shown ", 2);
    TB_LOG_ERROR("bad ", 3);
    EXPECT_FALSE(log::enabled(log::level::debug));
    EXPECT_TRUE(log::enabled(log::level::warning));
    const auto lines = cap.lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "[info] shown 2");
    EXPECT_EQ(lines[1], "[error] bad 3");
    EXPECT_FALSE(cap.contains("hidden"));

    log::set_level(log::level::trace);
    TB_LOG_TRACE("now visible");
    EXPECT_TRUE(cap.contains("[trace] now visible"));
}

// Counts how often it is formatted.
struct formatted_counter {
    int* count;
};
std::ostream& operator<<(std::ostream& os, const formatted_counter& c) {
    ++*c.count;
    return os << "counted";
}

TEST_F(log_test, a_line_below_the_level_is_never_formatted) {
    log::set_level(log::level::info);
    log::capture cap;
    int formatted = 0;
    TB_LOG_DEBUG("per connection ", formatted_counter{&formatted});
    TB_LOG_TRACE("per record ", formatted_counter{&formatted});
    EXPECT_EQ(formatted, 0);
    TB_LOG_INFO("written ", formatted_counter{&formatted});
    EXPECT_EQ(formatted, 1);
    EXPECT_TRUE(cap.contains("[info] written counted"));
}

TEST_F(log_test, limited_folds_repeats_and_reports_them_on_the_next_line) {
    log::set_rate_limit(1h);
    log::capture cap;
    const auto fold = key("fold");
    EXPECT_TRUE(log::limited(log::level::warning, fold, "accept failed"));
    EXPECT_FALSE(log::limited(log::level::warning, fold, "accept failed"));
    EXPECT_FALSE(log::limited(log::level::warning, fold, "accept failed"));
    EXPECT_TRUE(log::limited(log::level::warning, key("other"), "another key"));
    ASSERT_EQ(cap.lines().size(), 2u);

    // A short window: keep calling until a line gets through, counting the folded ones.
    log::set_rate_limit(20ms);
    int folded = 2;
    ASSERT_TRUE(tlsbroker::test::wait_until(
        [&] {
            if (log::limited(log::level::warning, fold, "accept failed")) return true;
            ++folded;
            return false;
        },
        5s));
    const auto lines = cap.lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[2], "[warning] accept failed (" + std::to_string(folded) + " similar suppressed)");
}

TEST_F(log_test, limited_below_the_level_is_not_counted) {
    log::set_level(log::level::warning);
    log::set_rate_limit(1h);
    log::capture cap;
    const auto below = key("below");
    EXPECT_FALSE(log::limited(log::level::info, below, "quiet"));
    log::set_level(log::level::info);
    EXPECT_TRUE(log::limited(log::level::info, below, "quiet"));
    EXPECT_EQ(cap.lines(), std::vector<std::string>{"[info] quiet"});
}

TEST_F(log_test, zero_window_writes_every_line) {
    log::set_rate_limit(0ms);
    log::capture cap;
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(log::limited(log::level::error, "unit:zero", "same"));
    EXPECT_EQ(cap.lines().size(), 5u);
}

TEST_F(log_test, writes_from_many_threads_all_arrive) {
    log::capture cap;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([t] {
            for (int i = 0; i < 250; ++i) {
                TB_LOG_INFO("thread ", t, " line ", i);
                log::limited(log::level::info, "unit:threads", "folded");
            }
        });
    for (auto& th : threads) th.join();
    const auto lines = cap.lines();
    std::size_t plain = 0;
    for (const auto& l : lines)
        if (l.find("thread ") != std::string::npos) ++plain;
    EXPECT_EQ(plain, 1000u);
}

TEST_F(log_test, platform_sink_receives_records_through_its_own_filter) {
    namespace bl = boost::log;
    using sink_t = bl::sinks::synchronous_sink<bl::sinks::text_ostream_backend>;
    auto out = boost::make_shared<std::ostringstream>();
    auto sink = boost::make_shared<sink_t>();
    sink->locked_backend()->add_stream(out);
    sink->set_filter(bl::expressions::attr<log::level>(log::severity_attribute) >= log::level::warning);
    sink->set_formatter(bl::expressions::stream << bl::expressions::smessage);
    log::add_sink(sink);
    TB_LOG_INFO("for the console only");
    TB_LOG_WARN("for the event log");
    log::remove_sink(sink);
    TB_LOG_ERROR("after removal");
    sink->flush();
    EXPECT_EQ(out->str(), "for the event log\n");
}

TEST_F(log_test, file_sink_writes_formatted_lines_and_rotates_by_size) {
    const auto dir = fresh_dir("rotate");
    tlsbroker::config::log_config cfg;
    cfg.level = "info";
    cfg.file = dir / "broker.log";
    cfg.max_file_mb = 1;
    cfg.keep_files = 2;
    log::configure(cfg, false);

    TB_LOG_WARN("first line");
    const std::regex first(R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \[warning\] first line\n)");
    EXPECT_TRUE(std::regex_search(read_all(cfg.file), first)) << read_all(cfg.file);

    const std::string filler(1000, 'x');
    for (int i = 0; i < 4500; ++i) TB_LOG_INFO(i, " ", filler);  // about 4.5 MB
    log::shutdown();

    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        ++files;
        EXPECT_LE(fs::file_size(e.path()), 1024u * 1024u + 2048u) << e.path();
        EXPECT_EQ(e.path().extension(), ".log") << e.path();
    }
    EXPECT_EQ(files, 3u);  // the active file and keep_files rotated ones
    EXPECT_TRUE(fs::exists(cfg.file));
    EXPECT_NE(read_all(cfg.file).find(" [info] 4499 x"), std::string::npos);
    fs::remove_all(dir);
}

TEST_F(log_test, configure_fails_for_an_unwritable_file_and_keeps_logging) {
    const auto dir = fresh_dir("bad");
    std::ofstream(dir / "plain").put('x');
    tlsbroker::config::log_config cfg;
    cfg.file = dir / "plain" / "sub" / "broker.log";  // a folder below a regular file
    EXPECT_THROW(log::configure(cfg, false), std::runtime_error);

    cfg.file.clear();
    cfg.level = "nonsense";
    EXPECT_THROW(log::configure(cfg, false), std::runtime_error);

    log::capture cap;
    TB_LOG_ERROR("still logging");
    EXPECT_TRUE(cap.contains("still logging"));
    fs::remove_all(dir);
}

TEST_F(log_test, configure_applies_level_and_window) {
    tlsbroker::config::log_config cfg;
    cfg.level = "error";
    cfg.rate_limit_ms = 3600000;
    log::configure(cfg, false);
    EXPECT_EQ(log::current_level(), log::level::error);
    log::capture cap;
    TB_LOG_WARN("filtered");
    const auto once = key("cfg");
    EXPECT_TRUE(log::limited(log::level::error, once, "once"));
    EXPECT_FALSE(log::limited(log::level::error, once, "once"));
    EXPECT_EQ(cap.lines(), std::vector<std::string>{"[error] once"});
    log::shutdown();
}

TEST_F(log_test, control_bytes_cannot_end_a_line_or_forge_the_next) {
    log::set_level(log::level::info);
    log::capture cap;
    TB_LOG_INFO("client sni=", std::string("evil\nFORGED-LINE \r\x1b[2J\x7f\x01"), " end");
    const auto lines = cap.lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "[info] client sni=evil\\x0aFORGED-LINE \\x0d\\x1b[2J\\x7f\\x01 end");
    EXPECT_EQ(log::escape_controls("plain text, \xc3\xa9 UTF-8 kept"), "plain text, \xc3\xa9 UTF-8 kept");
}

namespace {
// A sink that fails on every record, as a full disk or a broken Event Log would.
struct throwing_backend : boost::log::sinks::basic_sink_backend<boost::log::sinks::synchronized_feeding> {
    void consume(const boost::log::record_view&) { throw std::runtime_error("disk full"); }
};
}  // namespace

TEST_F(log_test, a_failing_sink_costs_its_line_never_the_caller) {
    log::set_level(log::level::info);
    auto sink = boost::make_shared<boost::log::sinks::synchronous_sink<throwing_backend>>();
    log::add_sink(sink);
    log::capture cap;
    const auto before = log::failed_lines();
    EXPECT_NO_THROW(TB_LOG_ERROR("written while a sink fails"));
    EXPECT_NO_THROW(log::limited(log::level::warning, key("failing-sink"), "limited too"));
    log::remove_sink(sink);
    EXPECT_EQ(log::failed_lines(), before + 2);
    EXPECT_TRUE(cap.contains("written while a sink fails")) << "the other sinks still got the line";
}
