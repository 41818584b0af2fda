// The status page is one self-contained document: nothing it needs comes from elsewhere.
#include "core/status/status_page.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace tlsbroker;

TEST(status_page, is_self_contained_html_that_reads_status) {
    const std::string page(core::status_page_html());
    EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
    EXPECT_NE(page.find("</html>"), std::string::npos);
    for (const char* external : {"http://", "https://", "<link", " src=", "@import", "url(", "@font-face"})
        EXPECT_EQ(page.find(external), std::string::npos) << external;
    // The page's own policy forbids loading anything but /status from its own origin.
    EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
    EXPECT_NE(page.find("connect-src 'self'"), std::string::npos);
    EXPECT_NE(page.find("fetch(\"/status\""), std::string::npos);
    // Data from /status is set as text, never parsed as markup.
    EXPECT_EQ(page.find("innerHTML"), std::string::npos);
    EXPECT_EQ(page.find("insertAdjacentHTML"), std::string::npos);
    EXPECT_EQ(std::string(core::status_page_content_type), "text/html; charset=utf-8");
}
