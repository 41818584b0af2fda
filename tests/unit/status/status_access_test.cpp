// Bearer tokens of the status endpoint: the header's form, and a match only on the exact token.
#include "core/status/status_access.hpp"

#include <gtest/gtest.h>

using tlsbroker::core::bearer_token;
using tlsbroker::core::status_access;

TEST(status_access, a_token_matches_only_itself_in_a_bearer_header) {
    const bearer_token t("s3cret-token-0123456789");
    EXPECT_TRUE(t.matches(std::string_view("Bearer s3cret-token-0123456789")));
    EXPECT_TRUE(t.matches(std::string_view("bearer s3cret-token-0123456789")));
    EXPECT_TRUE(t.matches(std::string_view("BEARER   s3cret-token-0123456789 ")));
    EXPECT_FALSE(t.matches(std::nullopt));
    EXPECT_FALSE(t.matches(std::string_view("")));
    EXPECT_FALSE(t.matches(std::string_view("Bearer")));
    EXPECT_FALSE(t.matches(std::string_view("Bearer ")));
    EXPECT_FALSE(t.matches(std::string_view("s3cret-token-0123456789")));
    EXPECT_FALSE(t.matches(std::string_view("Basic s3cret-token-0123456789")));
    EXPECT_FALSE(t.matches(std::string_view("Bearers3cret-token-0123456789")));
    EXPECT_FALSE(t.matches(std::string_view("Bearer s3cret-token-012345678")));
    EXPECT_FALSE(t.matches(std::string_view("Bearer s3cret-token-01234567890")));
    EXPECT_FALSE(t.matches(std::string_view("Bearer S3CRET-TOKEN-0123456789")));
}

TEST(status_access, made_from_the_config) {
    tlsbroker::config::status_config c;
    auto a = status_access::from(c);
    EXPECT_FALSE(a.read_token);
    EXPECT_FALSE(a.reload_token) << "no reload token configured: HTTP reload is off";
    EXPECT_EQ(a.idle_timeout, std::chrono::milliseconds(5000));
    c.reload_token = "reload-token-0123456789";
    c.allowed_hosts = {"broker01"};
    c.idle_timeout_ms = 750;
    a = status_access::from(c);
    EXPECT_FALSE(a.read_token);
    ASSERT_TRUE(a.reload_token);
    EXPECT_TRUE(a.reload_token->matches(std::string_view("Bearer reload-token-0123456789")));
    EXPECT_EQ(a.allowed_hosts, std::vector<std::string>{"broker01"});
    EXPECT_EQ(a.idle_timeout, std::chrono::milliseconds(750));
}
