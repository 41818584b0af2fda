// log.format "json": every line one JSON object that parses, whatever bytes a peer put in a
// field; a record with fields (the connection line) carries them as members.
#include "core/common/log_json.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/loader.hpp"
#include "core/common/log.hpp"
#include "support/config_support.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
namespace fs = std::filesystem;

namespace {

std::string json_quoted(std::string_view s) {
    std::string out;
    log::append_json_string(out, s);
    return out;
}

}  // namespace

TEST(log_json, strings_escape_quotes_controls_and_bad_utf8) {
    EXPECT_EQ(json_quoted("plain"), "\"plain\"");
    EXPECT_EQ(json_quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_quoted("l1\nl2\t\x01\x7f"), "\"l1\\nl2\\t\\u0001\\u007f\"");
    EXPECT_EQ(json_quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92"),
              "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"");
    // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
    EXPECT_EQ(json_quoted("a\x80z"), "\"a\\ufffdz\"");
    EXPECT_EQ(json_quoted("\xe2\x82"), "\"\\ufffd\\ufffd\"");
    EXPECT_EQ(json_quoted("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
    EXPECT_EQ(json_quoted("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
    // Whatever the bytes, the result parses back.
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    const auto parsed = nlohmann::json::parse(json_quoted(all));
    EXPECT_TRUE(parsed.is_string());
}

TEST(log_json, a_line_is_an_object_with_time_level_and_message_or_members) {
    const auto when = std::chrono::system_clock::now();
    const auto plain = nlohmann::json::parse(log::format_json_line(when, log::level::warning, "disk \"full\"", ""));
    EXPECT_EQ(plain["level"], "warning");
    EXPECT_EQ(plain["message"], "disk \"full\"");
    const auto text = log::format_line(when, log::level::warning, "x");
    EXPECT_EQ(plain["time"].get<std::string>(), text.substr(0, text.find(" [")));

    log::json_members m;
    m.add("event", "connection");
    m.add("sni", "");
    m.add_number("bytes_in", 1234);
    EXPECT_EQ(m.str(), "\"event\":\"connection\",\"sni\":null,\"bytes_in\":1234");
    const auto fields = nlohmann::json::parse(log::format_json_line(when, log::level::info, "connection", m.str()));
    EXPECT_EQ(fields["event"], "connection");
    EXPECT_TRUE(fields["sni"].is_null());
    EXPECT_EQ(fields["bytes_in"], 1234);
    EXPECT_FALSE(fields.contains("message"));
}

TEST(log_json, the_file_sink_writes_json_lines_when_configured) {
    const auto dir = fs::temp_directory_path() /
                     ("tlsbroker-log-json-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    fs::remove_all(dir);
    config::log_config cfg;
    cfg.file = dir / "broker.log";
    cfg.format = "json";
    log::configure(cfg, false);
    EXPECT_TRUE(log::json_lines());
    TB_LOG_WARN("a line with a \"quote\" and a byte \x01");
    log::json_members m;
    m.add("event", "connection");
    m.add("listener", "site");
    m.add_number("duration_ms", 42);
    log::write(log::level::info, "connection", log::tags{log::event::none, {}, log::origin::client, m.str()});
    log::shutdown();
    cfg.format = "text";
    cfg.file.clear();
    log::configure(cfg, false);
    EXPECT_FALSE(log::json_lines());

    std::ifstream in(dir / "broker.log");
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0]["level"], "warning");
    EXPECT_EQ(lines[0]["message"], "a line with a \"quote\" and a byte \\x01");  // escaped as in text lines
    EXPECT_EQ(lines[1]["event"], "connection");
    EXPECT_EQ(lines[1]["listener"], "site");
    EXPECT_EQ(lines[1]["duration_ms"], 42);
    fs::remove_all(dir);
}

TEST(log_json, log_format_is_text_or_json_and_a_bad_value_names_its_path) {
    const auto dir = test::make_temp_dir("log-format");
    const auto certs = test::make_self_signed(dir);
    const auto good = config::load_text(
        R"({"log": {"format": "json"}, "listeners": [{"listen": "127.0.0.1:1", "tls": {"certificate": ")" +
            certs.cert.string() + R"(", "private_key": ")" + certs.key.string() +
            R"("}, "backend": {"address": "127.0.0.1:2"}}]})",
        dir);
    ASSERT_TRUE(good.config) << test::all(good);
    EXPECT_EQ(good.config->log.format, "json");
    const auto bad = config::load_text(R"({"log": {"format": "xml"}, "listeners": []})", dir);
    EXPECT_TRUE(test::has_error(bad, "/log/format", "json")) << test::all(bad);
    EXPECT_EQ(config::log_config{}.format, "text");
}
