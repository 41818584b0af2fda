// The hand-written counters manifest must describe exactly the counters the Windows perf
// provider publishes: same GUIDs, one <counter> per counter_table() entry with its index as id.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "core/counters.hpp"
#include "service/windows/perf_ids.hpp"

using namespace tlsbroker;

namespace {
std::string manifest() {
    std::ifstream f(std::string(TLSBROKER_SOURCE_DIR) + "/installer/tlsbroker.man");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}
}  // namespace

TEST(perf_manifest, guids_and_name_match_the_provider) {
    const auto m = manifest();
    ASSERT_FALSE(m.empty());
    EXPECT_NE(m.find(std::string("providerGuid=\"") + service::perf_ids::provider_guid + "\""), std::string::npos);
    EXPECT_NE(m.find(std::string("counterSet guid=\"") + service::perf_ids::counterset_guid + "\""), std::string::npos);
    EXPECT_NE(m.find(std::string("name=\"") + service::perf_ids::counterset_name + "\""), std::string::npos);
    EXPECT_NE(m.find("instances=\"multiple\""), std::string::npos);
}

TEST(perf_manifest, one_counter_per_table_entry_by_reference) {
    const auto m = manifest();
    const std::regex re(
        R"re(<counter id="(\d+)" uri="tlsbroker\.TLSBroker\.(\w+)"[^>]*>\s*<counterAttributes>\s*<counterAttribute name="reference"/>)re");
    std::size_t n = 0;
    for (std::sregex_iterator it(m.begin(), m.end(), re), end; it != end; ++it, ++n) {
        const auto id = std::stoul((*it)[1]);
        ASSERT_LT(id, core::counter_count);
        EXPECT_EQ((*it)[2].str(), core::info(static_cast<core::counter>(id)).key) << "counter id " << id;
    }
    EXPECT_EQ(n, core::counter_count);
}
