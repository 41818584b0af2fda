// The hand-written counters manifest must describe exactly the counters the Windows perf
// provider publishes (service/windows/perf_layout.*): same GUIDs, one <counter> per layout
// entry with its id, uri, name and type; raw counters for every core counter, per-second rates
// over the same values; and the perfmon collector set shows the rates.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/common/counters.hpp"
#include "service/windows/perf_ids.hpp"
#include "service/windows/perf_layout.hpp"

using namespace tlsbroker;
namespace pl = service::perf_layout;

namespace {

std::string read_source(const std::string& path) {
    std::ifstream f(std::string(TLSBROKER_SOURCE_DIR) + "/" + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct manifest_counter {
    std::string uri, name, type;
};

std::map<std::uint32_t, manifest_counter> manifest_counters() {
    const auto m = read_source("installer/tlsbroker.man");
    const std::regex re(
        R"re(<counter id="(\d+)" uri="tlsbroker\.TLSBroker\.(\w+)" symbol="\w+" name="([^"]+)"\s+)re"
        R"re(description="[^"]+" type="(\w+)"[^>]*>\s*<counterAttributes>\s*<counterAttribute name="reference"/>)re");
    std::map<std::uint32_t, manifest_counter> out;
    for (std::sregex_iterator it(m.begin(), m.end(), re), end; it != end; ++it)
        out[static_cast<std::uint32_t>(std::stoul((*it)[1]))] = {(*it)[2], (*it)[3], (*it)[4]};
    return out;
}

}  // namespace

TEST(perf_manifest, guids_and_name_match_the_provider) {
    const auto m = read_source("installer/tlsbroker.man");
    ASSERT_FALSE(m.empty());
    EXPECT_NE(m.find(std::string("providerGuid=\"") + service::perf_ids::provider_guid + "\""), std::string::npos);
    EXPECT_NE(m.find(std::string("counterSet guid=\"") + service::perf_ids::counterset_guid + "\""), std::string::npos);
    EXPECT_NE(m.find(std::string("name=\"") + service::perf_ids::counterset_name + "\""), std::string::npos);
    EXPECT_NE(m.find("instances=\"multiple\""), std::string::npos);
}

TEST(perf_manifest, one_counter_per_layout_entry_by_reference) {
    const auto manifest = manifest_counters();
    const auto& layout = pl::counters();
    EXPECT_EQ(manifest.size(), layout.size());
    // Every <counter> element was matched (none with another shape slipped past the regex).
    const auto m = read_source("installer/tlsbroker.man");
    std::size_t elements = 0;
    for (auto pos = m.find("<counter id="); pos != std::string::npos; pos = m.find("<counter id=", pos + 1)) ++elements;
    EXPECT_EQ(elements, layout.size());
    for (const auto& c : layout) {
        const auto it = manifest.find(c.id);
        ASSERT_NE(it, manifest.end()) << "counter id " << c.id;
        EXPECT_EQ(it->second.uri, c.uri_stem) << c.id;
        EXPECT_EQ(it->second.name, c.name) << c.id;
        EXPECT_EQ(it->second.type, pl::manifest_type(c.type)) << c.id;
    }
}

TEST(perf_manifest, every_core_counter_raw_and_rates_over_the_same_values) {
    const auto& layout = pl::counters();
    ASSERT_GE(layout.size(), core::counter_count);
    for (std::size_t i = 0; i < core::counter_count; ++i) {
        EXPECT_EQ(layout[i].id, i);
        EXPECT_EQ(layout[i].value, static_cast<core::counter>(i));
        EXPECT_EQ(layout[i].uri_stem, core::info(layout[i].value).key);
        EXPECT_EQ(layout[i].type, pl::perf_type::large_rawcount);
        EXPECT_EQ(layout[i].size, 8u);
    }
    std::set<core::counter> rated;
    for (std::size_t i = core::counter_count; i < layout.size() && layout[i].id < pl::average_base; ++i) {
        const auto& c = layout[i];
        EXPECT_EQ(c.id, pl::rate_base + (i - core::counter_count));
        EXPECT_NE(c.type, pl::perf_type::large_rawcount) << c.name;
        EXPECT_EQ(c.from, pl::source::value) << c.name;
        EXPECT_EQ(core::info(c.value).kind, core::counter_kind::total) << c.name << ": a rate of a gauge means nothing";
        EXPECT_EQ(c.size, c.type == pl::perf_type::bulk_count ? 8u : 4u) << c.name;
        EXPECT_EQ(c.name, layout[static_cast<std::size_t>(c.value)].name + "/sec");
        rated.insert(c.value);
    }
    // The rates operators graph: accepts, handshakes, bytes each way, accept errors, timeouts.
    for (const auto v :
         {core::counter::connections_accepted, core::counter::handshakes_ok, core::counter::bytes_client_to_backend,
          core::counter::bytes_backend_to_client, core::counter::accept_errors_resource, core::counter::timeouts_idle,
          core::counter::timeouts_write_stall})
        EXPECT_TRUE(rated.count(v)) << core::info(v).key;
    EXPECT_EQ(pl::manifest_type(pl::perf_type::counter), std::string("perf_counter_counter"));
    EXPECT_EQ(static_cast<std::uint32_t>(pl::perf_type::counter), 0x10410400u);  // winperf.h PERF_COUNTER_COUNTER
}

TEST(perf_manifest, last_accept_age_is_seconds) {
    const auto& age = pl::counters()[static_cast<std::size_t>(core::counter::last_accept_unix_ms)];
    EXPECT_EQ(age.from, pl::source::age_seconds);
    EXPECT_EQ(age.name, "last accept age seconds");
    EXPECT_EQ(pl::age_seconds(0, 5000), -1);  // never accepted
    EXPECT_EQ(pl::age_seconds(1000, 1999), 0);
    EXPECT_EQ(pl::age_seconds(1000, 91000), 90);  // 90 s, not 90,000 ms
    EXPECT_EQ(pl::age_seconds(5000, 1000), 0);    // clock stepped back
}

TEST(perf_manifest, collector_set_shows_the_rates) {
    const auto xml = read_source("installer/tlsbroker-perfmon.xml");
    for (std::size_t i = core::counter_count; i < pl::counters().size() && pl::counters()[i].id < pl::average_base; ++i)
        EXPECT_NE(xml.find("\\TLS Broker(*)\\" + pl::counters()[i].name + "</Counter>"), std::string::npos)
            << pl::counters()[i].name;
    EXPECT_NE(xml.find("\\TLS Broker(*)\\last accept age seconds</Counter>"), std::string::npos);
}

TEST(perf_manifest, certificate_expiry_days_is_a_raw_counter_in_the_collector_set) {
    const auto& days = pl::counters()[static_cast<std::size_t>(core::counter::certificate_expiry_days)];
    EXPECT_EQ(days.name, "certificate expiry days");
    EXPECT_EQ(days.type, pl::perf_type::large_rawcount);
    EXPECT_EQ(days.from, pl::source::value);  // the listener block's atomic, set by the certificate watch
    EXPECT_EQ(core::info(core::counter::certificate_expiry_days).kind, core::counter_kind::gauge);
    EXPECT_NE(read_source("installer/tlsbroker-perfmon.xml").find("\\TLS Broker(*)\\certificate expiry days</Counter>"),
              std::string::npos);
}

// Handshake and backend connect time as perfmon averaging pairs, appended after the rates: the
// timer (sum in ticks) with baseID naming the base (count) right after it, both kept by the
// provider from the listener histograms, which count microseconds.
TEST(perf_manifest, averaging_pairs_for_handshake_and_backend_connect_time) {
    const auto& layout = pl::counters();
    const auto m = read_source("installer/tlsbroker.man");
    std::vector<const pl::perf_counter*> pairs;
    for (const auto& c : layout)
        if (c.id >= pl::average_base) pairs.push_back(&c);
    ASSERT_EQ(pairs.size(), 4u);
    EXPECT_EQ(&layout.back(), pairs.back());  // at the end: the ids before them keep their place
    for (std::size_t i = 0; i < pairs.size(); i += 2) {
        const auto& timer = *pairs[i];
        const auto& base = *pairs[i + 1];
        EXPECT_EQ(timer.id, pl::average_base + i);
        EXPECT_EQ(timer.type, pl::perf_type::average_timer);
        EXPECT_EQ(timer.from, pl::source::average_sum);
        EXPECT_EQ(timer.base_id, base.id);
        EXPECT_EQ(base.id, timer.id + 1);
        EXPECT_EQ(base.type, pl::perf_type::average_base);
        EXPECT_EQ(base.from, pl::source::average_count);
        EXPECT_EQ(base.name, timer.name + " base");
        EXPECT_EQ(timer.histograms, base.histograms);
        EXPECT_EQ(timer.size, 4u);  // winperf.h: both are PERF_SIZE_DWORD
        EXPECT_EQ(base.size, 4u);
        for (const auto h : timer.histograms)
            EXPECT_EQ(core::info(h).unit, core::histogram_unit::microseconds) << core::info(h).key;
        EXPECT_NE(m.find("<counter id=\"" + std::to_string(timer.id) + "\" uri=\"tlsbroker.TLSBroker." +
                         timer.uri_stem + "\""),
                  std::string::npos);
        const auto at = m.find("<counter id=\"" + std::to_string(timer.id) + "\"");
        const auto tag = m.substr(at, m.find('>', at) - at);
        EXPECT_NE(tag.find("baseID=\"" + std::to_string(base.id) + "\""), std::string::npos) << tag;
        EXPECT_NE(read_source("installer/tlsbroker-perfmon.xml").find("\\TLS Broker(*)\\" + timer.name + "</Counter>"),
                  std::string::npos)
            << timer.name;
    }
    EXPECT_EQ(pairs[0]->histograms,
              (std::vector<core::histogram>{core::histogram::handshake_full, core::histogram::handshake_resumed}));
    EXPECT_EQ(pairs[2]->histograms, (std::vector<core::histogram>{core::histogram::backend_connect}));
    EXPECT_EQ(static_cast<std::uint32_t>(pl::perf_type::average_timer), 0x30020400u);  // winperf.h
    EXPECT_EQ(static_cast<std::uint32_t>(pl::perf_type::average_base), 0x40030402u);
    EXPECT_EQ(pl::ticks(1'500'000, 10'000'000), 15'000'000u);  // 1.5 s at 10 MHz
    EXPECT_EQ(pl::ticks(7, 10'000'000), 70u);
    // A thousand days of summed handshake time at 10 MHz: no overflow on the way.
    EXPECT_EQ(pl::ticks(86'400'000'000ull * 1000, 10'000'000), 864'000'000'000'000ull);
}
