// The loader as a reader of documents: the order problems are listed in, JSON syntax,
// duplicate keys, wrong types reported once, unknown keys, and files it cannot read.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "support/config_support.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;

namespace {

struct document_fixture {
    std::filesystem::path dir = test::make_temp_dir("config-doc");
    test::cert_files certs = test::make_self_signed(dir);
    config::load_result load(std::string_view text) const { return config::load_text(text, dir); }
};

constexpr const char* valid_listener = R"({ "listen": "127.0.0.1:8443",
    "tls": { "certificate": "server.crt", "private_key": "server.key" },
    "backend": { "address": "127.0.0.1:9000" } })";

std::string with_listener(const std::string& extra_root, const std::string& listener = valid_listener) {
    return "{ " + extra_root + (extra_root.empty() ? "" : ", ") + "\"listeners\": [" + listener + "] }";
}

using test::all;

}  // namespace

TEST(config_document, five_problems_give_five_errors_in_document_order) {
    document_fixture f;
    // Written in an order unlike the one the loader reads keys in.
    const auto r = f.load(R"({
  "listeners": [{
    "listen": "127.0.0.1:70000",
    "backlog": 0,
    "tls": { "certificate": "server.crt", "private_key": "server.key", "cipher": "HIGH" },
    "backend": { "address": "127.0.0.1:9000" }
  }],
  "threads": "two",
  "watchdog": { "heartbeat_ms": 5 }
})");
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(r.config);
    const std::vector<std::string> expected = {"/listeners/0/listen", "/listeners/0/backlog", "/listeners/0/tls/cipher",
                                               "/threads", "/watchdog/heartbeat_ms"};
    EXPECT_EQ(test::error_pointers(r), expected) << all(r);
    EXPECT_NE(r.errors[2].message.find("did you mean 'ciphers'?"), std::string::npos) << all(r);
}

TEST(config_document, a_missing_key_is_listed_at_the_end_of_its_object) {
    document_fixture f;
    const auto r = f.load(R"({ "listeners": [{ "listen": "127.0.0.1:8443", "backlog": -1,
        "tls": { "certificate": "server.crt" } }], "threads": 5000 })");
    // "certificate" names a file without a key (private_key, now optional, is not there).
    const std::vector<std::string> expected = {"/listeners/0/backlog", "/listeners/0/tls/certificate",
                                               "/listeners/0/backend", "/threads"};
    EXPECT_EQ(test::error_pointers(r), expected) << all(r);
}

TEST(config_document, syntax_errors_give_line_and_column) {
    document_fixture f;
    const auto r = f.load("{\n  \"threads\": 1,\n  \"log\": { \"level\": \"info\" }\n  \"listeners\": []\n}");
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].pointer, "");
    EXPECT_NE(r.errors[0].message.find("line 4"), std::string::npos) << r.errors[0].message;
    EXPECT_NE(r.errors[0].message.find("column"), std::string::npos) << r.errors[0].message;
    EXPECT_NE(f.load("").errors.at(0).message.find("line 1"), std::string::npos);
    EXPECT_NE(f.load(with_listener("") + " extra").errors.at(0).message.find("invalid JSON"), std::string::npos);
}

TEST(config_document, a_key_written_twice_is_an_error) {
    document_fixture f;
    const auto r = f.load(with_listener("", R"({ "listen": "127.0.0.1:8443", "backlog": 10, "backlog": 20,
        "tls": { "certificate": "server.crt", "private_key": "server.key" },
        "backend": { "address": "127.0.0.1:9000" } })"));
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].pointer, "/listeners/0/backlog");
    EXPECT_NE(r.errors[0].message.find("duplicate key"), std::string::npos);
    // The same key in two different objects is fine.
    EXPECT_TRUE(f.load(with_listener(R"("log": { "level": "info" }, "status": { "enabled": true })")).ok());
}

TEST(config_document, a_wrong_type_is_reported_once) {
    document_fixture f;
    auto r = f.load(with_listener("", R"({ "listen": "127.0.0.1:8443", "tls": 7, "backend": [] })"));
    EXPECT_EQ(test::error_pointers(r), (std::vector<std::string>{"/listeners/0/tls", "/listeners/0/backend"}))
        << all(r);
    EXPECT_NE(r.errors[0].message.find("must be an object, not a number"), std::string::npos) << all(r);
    r = f.load(R"({ "listeners": [ 5, "x" ] })");
    EXPECT_EQ(test::error_pointers(r), (std::vector<std::string>{"/listeners/0", "/listeners/1"})) << all(r);
    r = f.load(R"({ "listeners": {} })");
    EXPECT_EQ(test::error_pointers(r), (std::vector<std::string>{"/listeners"})) << all(r);
    r = f.load("[1, 2]");
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].to_string(), "/: must be an object, not an array");
}

TEST(config_document, numbers_must_be_integers_in_range) {
    document_fixture f;
    auto r = f.load(with_listener(R"("threads": 1.5, "log": { "max_file_mb": 18446744073709551615 })"));
    ASSERT_EQ(r.errors.size(), 2u) << all(r);
    EXPECT_EQ(r.errors[0].to_string(), "/threads: must be an integer in 0..1024 (got 1.5)");
    EXPECT_EQ(r.errors[1].to_string(), "/log/max_file_mb: must be an integer in 1..10000 (got 18446744073709551615)");
    r = f.load(with_listener(R"("threads": true, "watchdog": { "enabled": 1 })"));
    EXPECT_EQ(r.errors.at(0).to_string(), "/threads: must be an integer in 0..1024, not a boolean");
    EXPECT_EQ(r.errors.at(1).to_string(), "/watchdog/enabled: must be true or false, not a number");
    r = f.load(with_listener(R"("threads": 1024, "log": { "keep_files": 0 })"));
    EXPECT_TRUE(r.ok()) << all(r);
}

TEST(config_document, unknown_keys_suggest_only_near_names) {
    document_fixture f;
    const auto r = f.load(with_listener(R"("treads": 1, "colour": "blue", "a/b": 1, "log": { "levl": "info" })"));
    ASSERT_EQ(r.errors.size(), 4u) << all(r);
    EXPECT_EQ(r.errors[0].to_string(), "/treads: unknown key; did you mean 'threads'?");
    EXPECT_EQ(r.errors[1].to_string(), "/colour: unknown key");
    EXPECT_EQ(r.errors[2].pointer, "/a~1b");
    EXPECT_EQ(r.errors[3].to_string(), "/log/levl: unknown key; did you mean 'level'?");
}

TEST(config_document, choices_list_what_is_allowed) {
    document_fixture f;
    const auto r =
        f.load(with_listener(R"("log": { "level": "verbose" }, "watchdog": { "on_unrecoverable": "abort" })"));
    ASSERT_EQ(r.errors.size(), 2u) << all(r);
    EXPECT_EQ(r.errors[0].message, R"(must be one of "trace", "debug", "info", "warning", "error" (got "verbose"))");
    EXPECT_EQ(r.errors[1].pointer, "/watchdog/on_unrecoverable");
}

TEST(config_document, watchdog_probe_timeout_must_be_below_the_interval) {
    document_fixture f;
    auto r = f.load(with_listener(R"("watchdog": { "probe_interval_ms": 100, "probe_timeout_ms": 100 })"));
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].pointer, "/watchdog/probe_timeout_ms");
    r = f.load(with_listener(R"("watchdog": { "probe_interval_ms": 100, "probe_timeout_ms": 99 })"));
    EXPECT_TRUE(r.ok()) << all(r);
}

TEST(config_document, listener_names) {
    document_fixture f;
    const auto two = [&](const std::string& a, const std::string& b) {
        return f.load(R"({ "listeners": [
            { )" + a + R"( "listen": "127.0.0.1:0", "tls": { "certificate": "server.crt", "private_key": "server.key" },
              "backend": { "address": "127.0.0.1:9000" } },
            { )" + b + R"( "listen": "127.0.0.1:0", "tls": { "certificate": "server.crt", "private_key": "server.key" },
              "backend": { "address": "127.0.0.1:9000" } } ] })");
    };
    auto r = two("", "");
    ASSERT_TRUE(r.ok()) << all(r);
    EXPECT_EQ(r.config->listeners[0].name, "listener0");
    EXPECT_EQ(r.config->listeners[1].name, "listener1");
    r = two("", R"("name": "listener0",)");
    ASSERT_EQ(r.errors.size(), 1u) << all(r);
    EXPECT_EQ(r.errors[0].to_string(),
              "/listeners/1/name: duplicate listener name \"listener0\" (also /listeners/0/name)");
    r = two(R"("name": "web site",)", R"("name": "",)");
    EXPECT_EQ(test::error_pointers(r), (std::vector<std::string>{"/listeners/0/name", "/listeners/1/name"})) << all(r);
    EXPECT_TRUE(two(R"("name": "a_b.c-1",)", R"("name": "A",)").ok());
}

TEST(config_document, unreadable_config_file_names_the_file_and_the_reason) {
    auto r = config::load_file("/nonexistent/tlsbroker.json");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].pointer, "");
    EXPECT_NE(r.errors[0].message.find("/nonexistent/tlsbroker.json"), std::string::npos) << r.errors[0].message;
    EXPECT_NE(r.errors[0].message.find("No such file or directory"), std::string::npos) << r.errors[0].message;
    const auto dir = test::make_temp_dir("config-doc-dir");
    r = config::load_file(dir);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].message.find("directory"), std::string::npos) << r.errors[0].message;
    if (::geteuid() != 0) {
        test::write_file(dir / "locked.json", "{}");
        std::filesystem::permissions(dir / "locked.json", std::filesystem::perms::none);
        r = config::load_file(dir / "locked.json");
        ASSERT_EQ(r.errors.size(), 1u);
        EXPECT_NE(r.errors[0].message.find("Permission denied"), std::string::npos) << r.errors[0].message;
    }
}

TEST(config_document, the_loader_never_throws) {
    document_fixture f;
    const char* docs[] = {"null",
                          "{}",
                          "{\"listeners\": null}",
                          "{\"listeners\": [null]}",
                          "\"text\"",
                          "{\"log\": []}",
                          "{\"listeners\": [{\"tls\": {\"sni\": [1, {\"server_names\": 3}]}, \"backends\": [[]]}]}",
                          "{\"status\": {\"listen\": \"[\"}}",
                          "{\"listeners\": [{\"listen\": \"[::1\"}]}",
                          "{\"log\": {\"file\": \"a\\u0000b\"}}",
                          "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]"};
    for (const char* d : docs) {
        config::load_result r;
        EXPECT_NO_THROW(r = f.load(d)) << d;
        EXPECT_FALSE(r.ok()) << d;
        for (const auto& e : r.errors) EXPECT_FALSE(e.message.empty()) << d;
    }
}
