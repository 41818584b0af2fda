#include "core/status/metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "support/prometheus_parser.hpp"

using namespace tlsbroker::core;

namespace {

constexpr std::uint64_t now_ms = 1'800'000'000'000;

struct metrics_fixture {
    counter_block site;
    counter_block weird;
    counter_block total;

    metrics_fixture() {
        counters a(site, total);
        counters b(weird, total);
        a.add(counter::connections_accepted, 12);
        b.add(counter::connections_accepted, 3);
        a.add(counter::handshakes_ok, 12);
        a.add(counter::handshakes_failed, 2);
        a.set(counter::connections_active, 5);
        a.set(counter::last_accept_unix_ms, now_ms - 1500);  // b never accepted
        a.set(counter::probe_latency_us, 1500);
        a.add(counter::accept_errors_resource, 4);
        total.set(counter::event_loop_max_block_ms, 250);
        total.set(counter::healthy, 1);
    }

    broker_view view() const {
        broker_view v{"1.2.3", now_ms - 61'000, true, "", {}, &total};
        v.listeners.push_back({"site", "0.0.0.0:443", "accepting", &site, 100});
        v.listeners.push_back({"we\"ird\\name\nx", "[::1]:8443", "paused_at_limit", &weird, 2});
        v.listeners[0].extra = {{"backend", "10.0.0.1:80"}};
        v.extra = {{"relay_buffers", {{"in_use", 0}}}};
        return v;
    }
};

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

bool has_line(const std::string& text, const std::string& line) {
    for (const auto& l : split_lines(text))
        if (l == line) return true;
    return false;
}

}  // namespace

TEST(metrics_status, top_level_and_listener_objects) {
    metrics_fixture f;
    const auto j = render_status(f.view(), now_ms);
    EXPECT_EQ(j["version"], "1.2.3");
    EXPECT_EQ(j["uptime_s"], 61);
    EXPECT_EQ(j["healthy"], true);
    EXPECT_EQ(j["health_reason"], "");
    EXPECT_EQ(j["relay_buffers"]["in_use"], 0);

    ASSERT_EQ(j["listeners"].size(), 2u);
    const auto& site = j["listeners"][0];
    EXPECT_EQ(site["name"], "site");
    EXPECT_EQ(site["listen"], "0.0.0.0:443");
    EXPECT_EQ(site["state"], "accepting");
    EXPECT_EQ(site["max_connections"], 100);
    EXPECT_EQ(site["backend"], "10.0.0.1:80");
    EXPECT_EQ(site["counters"]["connections_accepted"], 12);
    EXPECT_EQ(site["counters"]["handshakes_failed"], 2);
    EXPECT_EQ(site["counters"]["watchdog_probe_latency_us"], 1500);  // raw, unit in the key
    EXPECT_FALSE(site["counters"].contains("healthy"));              // broker scope: total only
    EXPECT_EQ(j["listeners"][1]["name"], "we\"ird\\name\nx");

    EXPECT_EQ(j["total"]["connections_accepted"], 15);
    EXPECT_EQ(j["total"]["healthy"], 1);
    EXPECT_EQ(j["total"]["event_loop_max_block_ms"], 250);
}

TEST(metrics_status, every_counter_key_is_present_in_table_order_of_scope) {
    metrics_fixture f;
    const auto j = render_status(f.view(), now_ms);
    for (const auto& c : counter_table()) {
        EXPECT_TRUE(j["total"].contains(c.key)) << c.key;
        EXPECT_EQ(j["listeners"][0]["counters"].contains(c.key), c.scope == counter_scope::listener) << c.key;
    }
}

TEST(metrics_status, timestamps_render_as_age_in_seconds) {
    metrics_fixture f;
    const auto j = render_status(f.view(), now_ms);
    EXPECT_DOUBLE_EQ(j["listeners"][0]["counters"]["last_accept_age_seconds"].get<double>(), 1.5);
    EXPECT_DOUBLE_EQ(j["listeners"][1]["counters"]["last_accept_age_seconds"].get<double>(), -1.0);
    EXPECT_DOUBLE_EQ(j["total"]["last_accept_age_seconds"].get<double>(), 1.5);  // the latest

    EXPECT_DOUBLE_EQ(age_seconds(0, now_ms), -1.0);
    EXPECT_DOUBLE_EQ(age_seconds(now_ms + 10, now_ms), 0.0);  // clock stepped back
    EXPECT_DOUBLE_EQ(age_seconds(now_ms - 2000, now_ms), 2.0);
}

TEST(metrics_status, missing_blocks_give_empty_objects) {
    broker_view v{"1", now_ms, false, "listener 'x' unrecoverable", {}, nullptr};
    v.listeners.push_back({"x", "127.0.0.1:1", "stopped", nullptr, 1});
    const auto j = render_status(v, now_ms);
    EXPECT_EQ(j["healthy"], false);
    EXPECT_EQ(j["health_reason"], "listener 'x' unrecoverable");
    EXPECT_TRUE(j["total"].empty());
    EXPECT_TRUE(j["listeners"][0]["counters"].empty());
    EXPECT_FALSE(has_line(render_prometheus(v, now_ms), "tlsbroker_healthy 1"));
}

TEST(metrics_prometheus, samples_carry_listener_then_own_label) {
    metrics_fixture f;
    const auto text = render_prometheus(f.view(), now_ms);
    EXPECT_TRUE(has_line(text, R"(tlsbroker_handshakes_total{listener="site",result="ok"} 12)")) << text;
    EXPECT_TRUE(has_line(text, R"(tlsbroker_handshakes_total{listener="site",result="failed"} 2)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_connections_accepted_total{listener="site"} 12)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_connections_active{listener="site"} 5)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_accept_errors_total{listener="site",class="resource"} 4)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_build_info{version="1.2.3"} 1)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_uptime_seconds 61)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_listener_max_connections{listener="site"} 100)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_listener_state{listener="site",state="accepting"} 1)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_listener_state{listener="site",state="backing_off"} 0)"));
}

TEST(metrics_prometheus, broker_scope_has_no_listener_label) {
    metrics_fixture f;
    const auto text = render_prometheus(f.view(), now_ms);
    EXPECT_TRUE(has_line(text, "tlsbroker_healthy 1"));
    EXPECT_TRUE(has_line(text, "tlsbroker_event_loop_stalls_total 0"));
    EXPECT_EQ(text.find("tlsbroker_healthy{"), std::string::npos);
    // Listener-scope families publish per listener only; no unlabelled total sample.
    EXPECT_FALSE(has_line(text, "tlsbroker_connections_accepted_total 15"));
}

TEST(metrics_prometheus, units_are_converted_to_seconds_and_ages_rendered) {
    metrics_fixture f;
    const auto text = render_prometheus(f.view(), now_ms);
    EXPECT_TRUE(has_line(text, R"(tlsbroker_watchdog_probe_latency_seconds{listener="site"} 0.0015)")) << text;
    EXPECT_TRUE(has_line(text, "tlsbroker_event_loop_max_block_seconds 0.25"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_last_accept_age_seconds{listener="site"} 1.5)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_last_accept_age_seconds{listener="we\"ird\\name\nx"} -1)"));
}

TEST(metrics_prometheus, label_values_are_escaped) {
    metrics_fixture f;
    auto v = f.view();
    v.version = "1.0 \"beta\"\\x";
    const auto text = render_prometheus(v, now_ms);
    EXPECT_TRUE(has_line(text, R"(tlsbroker_connections_accepted_total{listener="we\"ird\\name\nx"} 3)")) << text;
    EXPECT_TRUE(has_line(text, R"(tlsbroker_listener_state{listener="we\"ird\\name\nx",state="paused_at_limit"} 1)"));
    EXPECT_TRUE(has_line(text, R"(tlsbroker_build_info{version="1.0 \"beta\"\\x"} 1)"));
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(metrics_prometheus, each_family_declared_once_before_its_samples) {
    metrics_fixture f;
    const auto text = render_prometheus(f.view(), now_ms);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');

    std::map<std::string, int> help, type;
    std::map<std::string, std::string> types;
    std::string current;  // family of the latest header
    const std::regex sample_re(
        R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+)$)");
    std::set<std::string> with_samples;
    for (const auto& line : split_lines(text)) {
        std::smatch m;
        if (line.rfind("# HELP ", 0) == 0) {
            current = line.substr(7, line.find(' ', 7) - 7);
            ++help[current];
        } else if (line.rfind("# TYPE ", 0) == 0) {
            const auto name = line.substr(7, line.find(' ', 7) - 7);
            EXPECT_EQ(name, current) << "TYPE must follow its HELP: " << line;
            ++type[name];
            types[name] = line.substr(line.rfind(' ') + 1);
        } else if (std::regex_match(line, m, sample_re)) {
            EXPECT_EQ(m[1].str(), current) << "sample outside its family: " << line;
            with_samples.insert(m[1].str());
        } else {
            ADD_FAILURE() << "not a valid exposition line: " << line;
        }
    }
    for (const auto& [name, n] : help) {
        EXPECT_EQ(n, 1) << name;
        EXPECT_EQ(type[name], 1) << name;
        EXPECT_EQ(name.rfind("tlsbroker_", 0), 0u) << name;
    }
    // Every family of the counter table is there, with the right type.
    for (const auto& c : counter_table()) {
        ASSERT_EQ(help.count(c.metric), 1u) << c.metric;
        EXPECT_EQ(types[c.metric], c.kind == counter_kind::total ? "counter" : "gauge") << c.metric;
        EXPECT_TRUE(with_samples.count(c.metric)) << c.metric;
    }
    EXPECT_EQ(types["tlsbroker_build_info"], "gauge");
}

TEST(metrics_status, watchdog_object_shows_the_last_verdict_and_what_it_means) {
    metrics_fixture f;
    counters a(f.site, f.total);
    a.add(counter::probes_ok, 7);
    a.add(counter::probes_slow, 3);
    auto v = f.view();
    v.listeners[0].watchdog_on = true;
    v.listeners[0].last_probe = probe_outcome::slow;
    const auto j = render_status(v, now_ms);
    const auto& w = j["listeners"][0]["watchdog"];
    EXPECT_EQ(w["last_probe"], "slow");
    EXPECT_EQ(w["probes"]["ok"], 7);
    EXPECT_EQ(w["probes"]["slow"], 3);
    EXPECT_EQ(w["probes"]["failed"], 0);
    for (const char* o : {"ok", "slow", "stalled"}) EXPECT_FALSE(w["outcomes"][o].get<std::string>().empty()) << o;
    EXPECT_NE(w["outcomes"]["slow"].get<std::string>().find("no recovery step"), std::string::npos);
    // Without a watchdog there is no such object.
    EXPECT_FALSE(j["listeners"][1].contains("watchdog"));
}

TEST(metrics_prometheus, slow_probes_are_a_result_of_the_probes_family) {
    metrics_fixture f;
    counters a(f.site, f.total);
    a.add(counter::probes_slow, 4);
    const auto text = render_prometheus(f.view(), now_ms);
    EXPECT_NE(text.find("tlsbroker_watchdog_probes_total{listener=\"site\",result=\"slow\"} 4"), std::string::npos);
}

TEST(metrics_prometheus, backends_render_up_connects_and_times_marked_down) {
    const std::vector<backend_view> b = {{"site", "10.0.0.1:9000", false, 5, 3, 2},
                                         {"site", "10.0.0.2:9000", true, 7, 0, 0}};
    const auto text = render_backend_prometheus(b);
    const std::string one = "listener=\"site\",backend=\"10.0.0.1:9000\"";
    EXPECT_NE(text.find("tlsbroker_backend_up{" + one + "} 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("tlsbroker_backend_connects_total{" + one + ",result=\"ok\"} 5\n"), std::string::npos);
    EXPECT_NE(text.find("tlsbroker_backend_connects_total{" + one + ",result=\"failed\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("tlsbroker_backend_marked_down_total{" + one + "} 2\n"), std::string::npos);
    EXPECT_NE(text.find("tlsbroker_backend_up{listener=\"site\",backend=\"10.0.0.2:9000\"} 1\n"), std::string::npos);
    // Each family once, typed.
    for (const char* family : {"tlsbroker_backend_up gauge", "tlsbroker_backend_connects_total counter",
                               "tlsbroker_backend_marked_down_total counter"}) {
        const auto at = text.find(std::string("# TYPE ") + family);
        EXPECT_NE(at, std::string::npos) << family;
        EXPECT_EQ(text.find(std::string("# TYPE ") + family, at + 1), std::string::npos) << family;
    }
}

TEST(metrics_prometheus, the_whole_exposition_parses_strictly) {
    metrics_fixture f;
    histogram_block h;
    h.observe(histogram::handshake_full, 1'500);
    h.observe(histogram::handshake_resumed, 400);
    h.observe(histogram::session_bytes, 70'000);
    auto v = f.view();
    v.listeners[0].histograms = &h;
    const auto text = render_prometheus(v, now_ms) + render_backend_prometheus({{"site", "10.0.0.1:9000"}});
    const auto doc = tlsbroker::test::parse_prometheus(text);
    std::string errors;
    for (const auto& e : doc.errors) errors += e + "\n";
    ASSERT_TRUE(doc.ok()) << errors << text;
    EXPECT_EQ(doc.families.at("tlsbroker_handshake_duration_seconds").type, "histogram");
    EXPECT_EQ(doc.value("tlsbroker_handshake_duration_seconds_count", {{"listener", "site"}, {"kind", "full"}}), 1);
    EXPECT_EQ(doc.value("tlsbroker_handshake_duration_seconds_bucket",
                        {{"listener", "site"}, {"kind", "full"}, {"le", "0.0025"}}),
              1);
    EXPECT_EQ(doc.value("tlsbroker_handshake_duration_seconds_bucket",
                        {{"listener", "site"}, {"kind", "resumed"}, {"le", "0.001"}}),
              1);
    EXPECT_EQ(doc.value("tlsbroker_session_bytes_bucket", {{"listener", "site"}, {"le", "65536"}}), 0);
    EXPECT_EQ(doc.value("tlsbroker_session_bytes_bucket", {{"listener", "site"}, {"le", "262144"}}), 1);
    EXPECT_DOUBLE_EQ(doc.value("tlsbroker_session_bytes_sum", {{"listener", "site"}}), 70'000);
}

TEST(metrics_status, latency_gives_count_and_quantiles_over_the_window) {
    metrics_fixture f;
    histogram_block h(now_ms - 30'000);
    for (int i = 0; i < 10; ++i) h.observe(histogram::handshake_full, 1'500);  // all in (1 ms, 2.5 ms]
    auto v = f.view();
    v.listeners[0].histograms = &h;
    const auto j = render_status(v, now_ms);
    const auto& lat = j["listeners"][0]["latency"];
    EXPECT_DOUBLE_EQ(lat["window_s"].get<double>(), 30.0);
    EXPECT_EQ(lat["handshake_full_seconds"]["count"], 10);
    EXPECT_DOUBLE_EQ(lat["handshake_full_seconds"]["p50"].get<double>(), 0.00175);
    EXPECT_DOUBLE_EQ(lat["handshake_full_seconds"]["p99"].get<double>(), 0.002485);
    EXPECT_TRUE(lat["handshake_resumed_seconds"]["p50"].is_null());
    EXPECT_FALSE(j["listeners"][1].contains("latency"));
}

TEST(metrics_prometheus, process_families_follow_client_conventions_and_skip_unknown_values) {
    metrics_fixture f;
    auto v = f.view();
    v.process = process_stats{12, 1024, 5'000'000, 1.5, 1'800'000'000.25};
    auto text = render_prometheus(v, now_ms);
    auto doc = tlsbroker::test::parse_prometheus(text);
    ASSERT_TRUE(doc.ok()) << text;
    EXPECT_EQ(doc.families.at("process_cpu_seconds_total").type, "counter");
    EXPECT_EQ(doc.value("process_cpu_seconds_total"), 1.5);
    EXPECT_EQ(doc.value("process_open_fds"), 12);
    EXPECT_EQ(doc.value("process_max_fds"), 1024);
    EXPECT_EQ(doc.value("process_resident_memory_bytes"), 5'000'000);
    EXPECT_EQ(doc.value("process_start_time_seconds"), 1'800'000'000.25);
    v.process = process_stats{};
    v.process->open_fds = 3;
    text = render_prometheus(v, now_ms);
    EXPECT_TRUE(has_line(text, "process_open_fds 3"));
    EXPECT_EQ(text.find("process_max_fds"), std::string::npos);
    EXPECT_EQ(render_prometheus(f.view(), now_ms).find("process_"), std::string::npos);
}
