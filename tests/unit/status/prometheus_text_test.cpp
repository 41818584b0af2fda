// The one exposition writer, checked by the tests' strict parser (tests/support/prometheus_parser),
// and the parser itself checked on texts it must refuse.
#include "core/status/prometheus_text.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "support/prometheus_parser.hpp"

using namespace tlsbroker::core;
using tlsbroker::test::parse_prometheus;

namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += s + "\n";
    return out;
}

}  // namespace

TEST(prometheus_text, families_samples_and_escapes_parse_strictly) {
    prometheus_text out;
    out.family("x_total", "Help with \\ and\nnewline.", metric_type::counter);
    out.sample("x_total", metric_labels().add("listener", "we\"ird\\name\nx").raw("result=\"ok\""), std::uint64_t{7});
    out.family("y_seconds", "A gauge.", metric_type::gauge);
    out.sample("y_seconds", {}, 0.25);
    out.sample("y_seconds", metric_labels().add("k", "inf"), std::numeric_limits<double>::infinity());
    const auto text = out.take();
    const auto doc = parse_prometheus(text);
    ASSERT_TRUE(doc.ok()) << joined(doc.errors) << text;
    EXPECT_EQ(doc.families.at("x_total").type, "counter");
    EXPECT_EQ(doc.value("x_total", {{"listener", "we\"ird\\name\nx"}, {"result", "ok"}}), 7);
    EXPECT_EQ(doc.value("y_seconds", {{"k", "inf"}}), std::numeric_limits<double>::infinity());
    EXPECT_NE(text.find("# HELP x_total Help with \\\\ and\\nnewline.\n"), std::string::npos) << text;
}

TEST(prometheus_text, a_family_started_twice_is_written_once_and_its_samples_still_follow) {
    prometheus_text out;
    out.family("a", "A.", metric_type::gauge);
    out.family("a", "A.", metric_type::gauge);
    out.sample("a", {}, std::uint64_t{1});
    EXPECT_EQ(out.text(), "# HELP a A.\n# TYPE a gauge\na 1\n");
}

TEST(prometheus_text, histogram_is_cumulative_ends_at_inf_and_counts_match) {
    constexpr std::array<std::uint64_t, 3> bounds{1000, 2500, 10000};  // µs
    constexpr std::array<std::uint64_t, 4> counts{2, 0, 3, 1};
    prometheus_text out;
    out.family("h_seconds", "H.", metric_type::histogram);
    out.histogram("h_seconds", metric_labels().add("listener", "l"), bounds, counts, 25'000, 1e6);
    const auto text = out.take();
    const auto doc = parse_prometheus(text);
    ASSERT_TRUE(doc.ok()) << joined(doc.errors) << text;
    EXPECT_EQ(doc.value("h_seconds_bucket", {{"le", "0.001"}}), 2);
    EXPECT_EQ(doc.value("h_seconds_bucket", {{"le", "0.0025"}}), 2);
    EXPECT_EQ(doc.value("h_seconds_bucket", {{"le", "0.01"}}), 5);
    EXPECT_EQ(doc.value("h_seconds_bucket", {{"le", "+Inf"}}), 6);
    EXPECT_EQ(doc.value("h_seconds_count"), 6);
    EXPECT_DOUBLE_EQ(doc.value("h_seconds_sum"), 0.025);
}

TEST(prometheus_parser, refuses_what_the_format_forbids) {
    const char* bad[] = {
        "x 1\n",                                                           // no # TYPE
        "# TYPE x gauge\n# TYPE x gauge\nx 1\n",                           // a second # TYPE
        "# TYPE x gauge\nx{a=\"\\t\"} 1\n",                                // a bad escape
        "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",                    // a repeated series
        "# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a=\"b\"} 1\n",        // x's samples apart
        "# TYPE x counter\nx -1\n",                                        // a counter below zero
        "# TYPE 1x gauge\n",                                               // a bad name
        "# TYPE x gauge\nx one\n",                                         // a bad value
        "# TYPE x gauge\nx 1",                                             // no final line feed
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n",  // no +Inf
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",  // falls
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",  // _count is not +Inf
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",           // no _sum
    };
    for (const char* text : bad) EXPECT_FALSE(parse_prometheus(text).ok()) << text;
    EXPECT_TRUE(parse_prometheus("# HELP x X.\n# TYPE x gauge\nx{a=\"\\\"\"} 1\n").ok());
}
