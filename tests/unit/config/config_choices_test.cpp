// The config's closed sets: every name maps to one value and back, and nothing else parses.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/choices.hpp"

// Inside the namespace, not `using namespace`, which a unity build would carry into other files.
namespace tlsbroker::config {

namespace {
template <class E>
void round_trips() {
    std::set<std::string_view> names;
    for (const auto& [value, name] : choice_names<E>::table) {
        EXPECT_TRUE(names.insert(name).second) << "name used twice: " << name;
        EXPECT_EQ(to_string(value), name);
        E back{};
        ASSERT_TRUE(from_string(name, back)) << name;
        EXPECT_EQ(back, value) << name;
    }
    E untouched = choice_names<E>::table.back().first;
    EXPECT_FALSE(from_string("NONE", untouched));  // names are case-sensitive
    EXPECT_FALSE(from_string("", untouched));
    EXPECT_EQ(untouched, choice_names<E>::table.back().first);
}
}  // namespace

TEST(config_choices, every_name_maps_to_one_value_and_back) {
    round_trips<verify_client_mode>();
    round_trips<tls_min_version>();
    round_trips<backend_policy>();
    round_trips<proxy_header>();
    round_trips<accept_proxy_mode>();
    round_trips<unrecoverable_action>();
}

}  // namespace tlsbroker::config
