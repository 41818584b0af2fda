#include "core/common/counters.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>

using namespace tlsbroker::core;

TEST(counters, add_and_sub_hit_own_block_and_total) {
    counter_block a, b, total;
    counters ca(a, total), cb(b, total);
    ca.add(counter::connections_accepted);
    ca.add(counter::connections_accepted, 4);
    cb.add(counter::connections_accepted, 10);
    EXPECT_EQ(ca.get(counter::connections_accepted), 5u);
    EXPECT_EQ(cb.get(counter::connections_accepted), 10u);
    EXPECT_EQ(total.get(counter::connections_accepted), 15u);

    ca.add(counter::connections_active, 3);
    cb.add(counter::connections_active, 2);
    ca.sub(counter::connections_active);
    EXPECT_EQ(a.get(counter::connections_active), 2u);
    EXPECT_EQ(total.get(counter::connections_active), 4u);
    EXPECT_EQ(&ca.own(), &a);
    EXPECT_EQ(&ca.total(), &total);
}

TEST(counters, gauge_set_moves_total_by_the_difference) {
    counter_block a, b, total;
    counters ca(a, total), cb(b, total);
    ca.set(counter::accept_queue_depth, 7);
    cb.set(counter::accept_queue_depth, 3);
    EXPECT_EQ(total.get(counter::accept_queue_depth), 10u);
    ca.set(counter::accept_queue_depth, 2);
    EXPECT_EQ(a.get(counter::accept_queue_depth), 2u);
    EXPECT_EQ(total.get(counter::accept_queue_depth), 5u);
    cb.set(counter::accept_queue_depth, 0);
    EXPECT_EQ(total.get(counter::accept_queue_depth), 2u);
}

TEST(counters, timestamp_set_keeps_the_latest_in_total) {
    counter_block a, b, total;
    counters ca(a, total), cb(b, total);
    ca.set(counter::last_accept_unix_ms, 1000);
    cb.set(counter::last_accept_unix_ms, 5000);
    ca.set(counter::last_accept_unix_ms, 3000);
    EXPECT_EQ(a.get(counter::last_accept_unix_ms), 3000u);
    EXPECT_EQ(b.get(counter::last_accept_unix_ms), 5000u);
    EXPECT_EQ(total.get(counter::last_accept_unix_ms), 5000u);
    ca.set(counter::last_accept_unix_ms, 9000);
    EXPECT_EQ(total.get(counter::last_accept_unix_ms), 9000u);
}

TEST(counters, raise_to_only_goes_up) {
    counter_block b;
    b.raise_to(counter::event_loop_max_block_ms, 40);
    b.raise_to(counter::event_loop_max_block_ms, 10);
    EXPECT_EQ(b.get(counter::event_loop_max_block_ms), 40u);
    b.raise_to(counter::event_loop_max_block_ms, 90);
    EXPECT_EQ(b.get(counter::event_loop_max_block_ms), 90u);
}

TEST(counters, table_is_in_enum_order) {
    const auto table = counter_table();
    ASSERT_EQ(table.size(), counter_count);
    for (std::size_t i = 0; i < table.size(); ++i) {
        EXPECT_EQ(static_cast<std::size_t>(table[i].id), i) << table[i].key;
        EXPECT_EQ(&info(static_cast<counter>(i)), &table[i]);
    }
}

TEST(counters, names_and_keys_are_well_formed_and_unique) {
    std::set<std::string> keys;
    std::set<std::pair<std::string, std::string>> series;
    for (const auto& c : counter_table()) {
        const std::string_view metric = c.metric;
        EXPECT_EQ(metric.rfind("tlsbroker_", 0), 0u) << metric;
        EXPECT_TRUE(keys.insert(c.key).second) << "duplicate key " << c.key;
        EXPECT_TRUE(series.insert({c.metric, c.label}).second) << "duplicate series " << metric << c.label;
        EXPECT_GT(std::string_view(c.help).size(), 0u) << metric;
        const bool total_name = metric.size() > 6 && metric.substr(metric.size() - 6) == "_total";
        EXPECT_EQ(total_name, c.kind == counter_kind::total) << metric;
        const bool seconds = metric.size() > 8 && metric.substr(metric.size() - 8) == "_seconds";
        if (seconds) {
            EXPECT_NE(c.unit, counter_unit::none) << metric;
        }
        const std::string_view label = c.label;
        if (!label.empty()) {
            EXPECT_NE(label.find("=\""), std::string_view::npos) << label;
            EXPECT_EQ(label.back(), '"') << label;
        }
    }
}

TEST(counters, families_sharing_a_metric_name_share_help_kind_and_scope) {
    std::map<std::string, const counter_info*> first;
    for (const auto& c : counter_table()) {
        const auto [it, inserted] = first.emplace(c.metric, &c);
        if (inserted) continue;
        EXPECT_STREQ(c.help, it->second->help) << c.metric;
        EXPECT_EQ(c.kind, it->second->kind) << c.metric;
        EXPECT_EQ(c.scope, it->second->scope) << c.metric;
        EXPECT_EQ(c.unit, it->second->unit) << c.metric;
        EXPECT_NE(std::string_view(c.label), "") << c.metric << " needs a label to tell its series apart";
    }
}

TEST(counters, units_scale_to_seconds) {
    EXPECT_DOUBLE_EQ(seconds_per_unit(counter_unit::none), 1.0);
    EXPECT_DOUBLE_EQ(seconds_per_unit(counter_unit::milliseconds), 1e-3);
    EXPECT_DOUBLE_EQ(seconds_per_unit(counter_unit::microseconds), 1e-6);
    EXPECT_EQ(info(counter::probe_latency_us).unit, counter_unit::microseconds);
    EXPECT_EQ(info(counter::event_loop_max_block_ms).unit, counter_unit::milliseconds);
}

TEST(counters, unix_ms_now_is_plausible) {
    const auto t = unix_ms_now();
    EXPECT_GT(t, 1'600'000'000'000u);  // after 2020
    EXPECT_LE(t, unix_ms_now());
}
