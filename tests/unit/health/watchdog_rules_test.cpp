// The watchdog's rules, without sockets or timers: every row of both tables with an
// observation made for it, the storm, the limit, the stall that climbs the ladder, the ladder
// running out, and core/health/README.md showing the same tables as the code.
#include "core/health/watchdog_rules.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace tlsbroker::core;

namespace {

constexpr std::uint32_t timeout = 200;  // probe_timeout_ms
constexpr std::uint64_t t0 = 1'000'000;

accept_progress accepting(std::uint64_t accepts = 10) {
    accept_progress p;
    p.state = listener_state::accepting;
    p.accept_outstanding = true;
    p.accepts = accepts;
    p.active = 3;
    p.max_connections = 100;
    p.live_sessions = 3;
    return p;
}

accept_progress paused(std::size_t active, std::size_t max, std::size_t live, std::uint64_t accepts = 10) {
    accept_progress p;
    p.state = listener_state::paused_at_limit;
    p.accepts = accepts;
    p.active = active;
    p.max_connections = max;
    p.live_sessions = live;
    return p;
}

accept_progress backing_off(bool timer) {
    accept_progress p;
    p.state = listener_state::backing_off;
    p.timer_pending = timer;
    p.accepts = 10;
    return p;
}

watchdog_observation check(std::uint64_t now, const accept_progress& p, std::optional<std::uint32_t> depth = {}) {
    watchdog_observation o;
    o.event = watch_event::check;
    o.now_ms = now;
    o.probe_timeout_ms = timeout;
    o.progress = p;
    o.queue_depth = depth;
    o.accepts_now = p.accepts;
    return o;
}

watchdog_observation canary(std::uint64_t now, canary_result r, const accept_progress& p, std::uint64_t accepts0 = 10,
                            std::optional<std::uint32_t> depth0 = {}, std::optional<std::uint32_t> depth = {}) {
    auto o = check(now, p, depth);
    o.event = watch_event::canary;
    o.canary = r;
    o.canary_accepts0 = accepts0;
    o.canary_depth0 = depth0;
    if (r == canary_result::connect_failed) o.canary_error = "Connection refused";
    return o;
}

// The ladder's memory: the last step, its quiet time, the accept count when the ladder began.
watchdog_memory ladder_at(watchdog_step step, std::uint64_t quiet_until_ms, std::uint64_t ladder_accepts) {
    watchdog_memory m;
    m.step = step;
    m.quiet_until_ms = quiet_until_ms;
    m.ladder_accepts = ladder_accepts;
    return m;
}

struct example {
    watchdog_observation o;
    watchdog_memory m;
};

// An observation (and memory) made for each row of the rules, by the row's name.
std::map<std::string, example> rule_examples() {
    std::map<std::string, example> e;
    auto no_accept = accepting();
    no_accept.accept_outstanding = false;
    e["accepting_without_accept"] = {check(t0, no_accept), {}};
    e["backing_off_without_timer"] = {check(t0, backing_off(false)), {}};
    watchdog_memory seen_low;
    seen_low.low_pause_seen = true;
    e["paused_below_limit"] = {check(t0, paused(1, 2, 1)), seen_low};
    watchdog_memory orphaned;
    orphaned.orphaned_since_ms = t0 - timeout;
    e["slots_held_by_nobody"] = {check(t0, paused(2, 2, 0)), orphaned};
    watchdog_memory queued;
    queued.queue_since_ms = t0 - timeout - 1;
    queued.queue_accepts = 10;
    e["queue_not_drained"] = {check(t0, accepting(10), 5), queued};
    e["at_limit"] = {check(t0, paused(2, 2, 2)), {}};
    e["backing_off"] = {check(t0, backing_off(true)), {}};
    e["check_ok"] = {check(t0, accepting(), 0), {}};
    e["canary_taken"] = {canary(t0, canary_result::taken, accepting()), {}};
    e["canary_connect_failed"] = {canary(t0, canary_result::connect_failed, accepting()), {}};
    e["canary_late_behind_clients"] = {canary(t0, canary_result::late, accepting(14), 10, 300, 296), {}};
    e["canary_late_not_accepting"] = {canary(t0, canary_result::late, paused(2, 2, 2), 10), {}};
    e["canary_late_no_accept"] = {canary(t0, canary_result::late, accepting(10), 10, 1, 1), {}};
    return e;
}

// A stall (a broken invariant) met by the memory made for each rung of the ladder.
std::map<std::string, example> rung_examples() {
    auto stall = rule_examples()["accepting_without_accept"].o;
    stall.accepts_now = 20;
    std::map<std::string, example> e;
    e["gave_up_before"] = {stall, ladder_at(watchdog_step::give_up, 0, 20)};
    e["quiet"] = {stall, ladder_at(watchdog_step::rearm, t0 + 1, 20)};
    e["new_stall_after_accepts"] = {stall, ladder_at(watchdog_step::recreate, t0, 17)};
    e["first_stall"] = {stall, {}};
    e["rearm_did_not_help"] = {stall, ladder_at(watchdog_step::rearm, t0, 20)};
    e["recreate_did_not_help"] = {stall, ladder_at(watchdog_step::recreate, t0, 20)};
    return e;
}

// Runs observations in turn, keeping the memory, as the mechanism does.
struct listener_watch {
    watchdog_memory memory;
    watchdog_decision see(const watchdog_observation& o) {
        auto d = judge(o, memory);
        memory = d.next;
        return d;
    }
};

}  // namespace

TEST(watchdog_rules, every_rule_gives_its_verdict_for_its_observation) {
    auto examples = rule_examples();
    ASSERT_EQ(examples.size(), watchdog_rules().size()) << "an example for each row, no more";
    for (const auto& row : watchdog_rules()) {
        SCOPED_TRACE(row.name);
        const auto it = examples.find(row.name);
        ASSERT_NE(it, examples.end()) << "no example for this row";
        const auto d = judge(it->second.o, it->second.m);
        ASSERT_EQ(d.rule, &row) << "found " << d.rule->name;
        EXPECT_EQ(d.reason.find('{'), std::string::npos) << d.reason;
        if (row.verdict == watchdog_verdict::stalled) {
            // A fresh ladder: the first stall re-arms.
            ASSERT_NE(d.rung, nullptr);
            EXPECT_STREQ(d.rung->name, "first_stall");
            EXPECT_EQ(d.verdict, watchdog_verdict::stalled);
            EXPECT_EQ(d.step, watchdog_step::rearm);
        } else {
            EXPECT_EQ(d.rung, nullptr);
            EXPECT_EQ(d.verdict, row.verdict);
            EXPECT_EQ(d.step, watchdog_step::none);
        }
    }
}

TEST(watchdog_rules, every_rung_takes_its_step_for_its_stall) {
    auto examples = rung_examples();
    ASSERT_EQ(examples.size(), watchdog_ladder().size()) << "an example for each rung, no more";
    for (const auto& rung : watchdog_ladder()) {
        SCOPED_TRACE(rung.name);
        const auto it = examples.find(rung.name);
        ASSERT_NE(it, examples.end()) << "no example for this rung";
        const auto& [o, m] = it->second;
        const auto d = judge(o, m);
        ASSERT_EQ(d.rung, &rung) << "found " << (d.rung ? d.rung->name : "no rung");
        EXPECT_EQ(d.verdict, rung.verdict);
        EXPECT_EQ(d.step, rung.step);
        EXPECT_EQ(d.verify_in_ms, rung.verify ? timeout : 0u);
        if (rung.step == watchdog_step::none) {
            EXPECT_EQ(d.next.step, m.step);
            EXPECT_EQ(d.next.quiet_until_ms, m.quiet_until_ms);
        } else {
            EXPECT_EQ(d.next.step, rung.step);
            EXPECT_EQ(d.next.quiet_until_ms, o.now_ms + timeout);
            EXPECT_EQ(d.next.ladder_accepts, rung.starts_ladder ? o.accepts_now : m.ladder_accepts);
        }
    }
}

TEST(watchdog_rules, each_event_ends_in_an_otherwise_row) {
    for (const auto event : {watch_event::check, watch_event::canary}) {
        const watchdog_rule* last = nullptr;
        for (const auto& row : watchdog_rules())
            if (row.event == event) last = &row;
        ASSERT_NE(last, nullptr) << to_string(event);
        EXPECT_TRUE(last->holds(watchdog_observation{}, watchdog_memory{})) << last->name;
        EXPECT_EQ(std::string(last->when).rfind("otherwise", 0), 0u) << last->name;
    }
}

TEST(watchdog_rules, storm_of_connects_with_accepts_progressing_is_not_a_stall) {
    // 400 connections queued behind a busy worker: one accept every 150 ms (less than the
    // probe timeout apart), checks every 50 ms for 6 s. The queue never empties.
    listener_watch w;
    std::uint64_t accepts = 10;
    for (std::uint64_t t = 0; t <= 6000; t += 50) {
        if (t % 150 == 0) ++accepts;
        const auto d = w.see(check(t0 + t, accepting(accepts), 400 - static_cast<std::uint32_t>(t / 150)));
        ASSERT_EQ(d.verdict, watchdog_verdict::healthy) << "at " << t << " ms: " << d.rule->name << ", " << d.reason;
        ASSERT_EQ(d.step, watchdog_step::none);
    }
    // A canary that waited behind them is slow, not stalled, and takes no step.
    const auto d = w.see(canary(t0 + 6100, canary_result::late, accepting(accepts + 2), accepts, 360, 358));
    EXPECT_STREQ(d.rule->name, "canary_late_behind_clients");
    EXPECT_EQ(d.verdict, watchdog_verdict::degraded);
    EXPECT_EQ(d.rule->probe, probe_outcome::slow);
    EXPECT_EQ(d.step, watchdog_step::none);
    EXPECT_EQ(d.reason, "2 accepts completed meanwhile, 358 connections still queued");
    // The queue shrinking is progress too, even when no accept was counted yet.
    EXPECT_STREQ(judge(canary(t0, canary_result::late, accepting(10), 10, 360, 359), {}).rule->name,
                 "canary_late_behind_clients");
}

TEST(watchdog_rules, storm_after_a_step_resets_the_ladder) {
    const auto after_rearm = ladder_at(watchdog_step::rearm, t0, 10);
    const auto d = judge(canary(t0 + 500, canary_result::late, accepting(30), 25, 100, 90), after_rearm);
    EXPECT_EQ(d.step, watchdog_step::none);
    EXPECT_EQ(d.ladder_reset_from, watchdog_step::rearm);
    EXPECT_EQ(d.next.step, watchdog_step::none);
}

TEST(watchdog_rules, at_the_limit_is_not_a_stall_and_never_recreates) {
    // max_connections reached, every slot held by a live session, for 10 s of checks.
    listener_watch w;
    for (std::uint64_t t = 0; t <= 10000; t += 100) {
        const auto d = w.see(check(t0 + t, paused(100, 100, 100), 50));
        ASSERT_STREQ(d.rule->name, "at_limit") << "at " << t << " ms";
        ASSERT_EQ(d.verdict, watchdog_verdict::healthy);
        ASSERT_EQ(d.step, watchdog_step::none);
    }
    EXPECT_FALSE(worth_a_probe(listener_state::paused_at_limit));  // no canary is sent
    // A canary sent just before the pause, late: the pause explains it.
    const auto d = w.see(canary(t0 + 10100, canary_result::late, paused(100, 100, 100), 10, 50, 50));
    EXPECT_STREQ(d.rule->name, "canary_late_not_accepting");
    EXPECT_EQ(d.reason, "the listener is paused_at_limit");
    EXPECT_EQ(d.step, watchdog_step::none);
    EXPECT_EQ(w.memory.step, watchdog_step::none);
}

TEST(watchdog_rules, a_pause_below_the_limit_counts_at_the_second_check_only) {
    // A closing connection lowers `active` just before it posts the resume.
    listener_watch w;
    EXPECT_EQ(w.see(check(t0, paused(99, 100, 99))).verdict, watchdog_verdict::healthy);
    EXPECT_EQ(w.see(check(t0 + 100, accepting())).verdict, watchdog_verdict::healthy);
    EXPECT_EQ(w.see(check(t0 + 200, paused(99, 100, 99))).verdict, watchdog_verdict::healthy);
    const auto d = w.see(check(t0 + 300, paused(99, 100, 99)));
    EXPECT_STREQ(d.rule->name, "paused_below_limit");
    EXPECT_EQ(d.step, watchdog_step::rearm);
}

TEST(watchdog_rules, slots_held_by_nobody_are_reported_once_per_episode_and_take_no_step) {
    listener_watch w;
    auto d = w.see(check(t0, paused(2, 2, 0)));
    EXPECT_STREQ(d.rule->name, "at_limit");  // a closing session: give it a probe timeout
    EXPECT_FALSE(d.orphans_reported);
    d = w.see(check(t0 + timeout - 1, paused(2, 2, 0)));
    EXPECT_FALSE(d.orphans_held);
    d = w.see(check(t0 + timeout, paused(2, 2, 0)));
    EXPECT_STREQ(d.rule->name, "slots_held_by_nobody");
    EXPECT_EQ(d.verdict, watchdog_verdict::degraded);
    EXPECT_EQ(d.step, watchdog_step::none);
    EXPECT_TRUE(d.orphans_reported && d.orphans_held);
    EXPECT_EQ(d.reason,
              "paused at its limit: 2 of 2 slots held but no session is live (leaked slots?); "
              "it accepts nobody until a slot is given back");
    d = w.see(check(t0 + timeout + 100, paused(2, 2, 0)));
    EXPECT_FALSE(d.orphans_reported);  // once per episode
    EXPECT_TRUE(d.orphans_held);       // logged while it lasts
    d = w.see(check(t0 + timeout + 200, paused(1, 2, 0)));
    EXPECT_TRUE(d.orphans_cleared);
    EXPECT_FALSE(d.next.orphaned_since_ms);
}

TEST(watchdog_rules, stalled_queue_climbs_the_ladder_and_runs_out) {
    // Backlog evidence and no accept progress: the queue rule finds the stall between
    // probes, then the canaries that verify each step fail too.
    listener_watch w;
    const auto stuck = accepting(10);
    EXPECT_EQ(w.see(check(t0, stuck, 3)).verdict, watchdog_verdict::healthy);  // first sight
    EXPECT_EQ(w.see(check(t0 + 100, stuck, 3)).verdict, watchdog_verdict::healthy);
    EXPECT_EQ(w.see(check(t0 + 200, stuck, 3)).verdict, watchdog_verdict::healthy);  // not longer than the timeout
    auto d = w.see(check(t0 + 201, stuck, 3));
    EXPECT_STREQ(d.rule->name, "queue_not_drained");
    EXPECT_EQ(d.reason, "accept queue not drained: 3 connections waiting and no accept completed");
    EXPECT_EQ(d.verdict, watchdog_verdict::stalled);
    EXPECT_EQ(d.step, watchdog_step::rearm);
    EXPECT_EQ(d.verify_in_ms, 200u);
    EXPECT_FALSE(d.next.queue_since_ms);  // watched afresh
    // The verifying canary is late and no accept completed, but step 1 is still at work.
    d = w.see(canary(t0 + 400, canary_result::late, stuck, 10, 4, 4));
    EXPECT_STREQ(d.rule->name, "canary_late_no_accept");
    EXPECT_STREQ(d.rung->name, "quiet");
    EXPECT_EQ(d.step, watchdog_step::none);
    d = w.see(canary(t0 + 402, canary_result::late, stuck, 10, 4, 4));
    EXPECT_STREQ(d.rung->name, "rearm_did_not_help");
    EXPECT_EQ(d.step, watchdog_step::recreate);
    d = w.see(canary(t0 + 700, canary_result::connect_failed, stuck));
    EXPECT_EQ(d.reason, "canary probe failed (connect: Connection refused)");
    EXPECT_STREQ(d.rung->name, "recreate_did_not_help");
    EXPECT_EQ(d.verdict, watchdog_verdict::gave_up);
    EXPECT_EQ(d.step, watchdog_step::give_up);
    EXPECT_EQ(d.verify_in_ms, 0u);
    // The ladder has run out: stalls take no step, and a taken canary does not restart it.
    d = w.see(canary(t0 + 5000, canary_result::late, stuck, 10, 4, 4));
    EXPECT_STREQ(d.rung->name, "gave_up_before");
    EXPECT_EQ(d.verdict, watchdog_verdict::gave_up);
    EXPECT_EQ(d.step, watchdog_step::none);
    d = w.see(canary(t0 + 6000, canary_result::taken, accepting(11)));
    EXPECT_EQ(d.ladder_reset_from, watchdog_step::none);
    EXPECT_EQ(w.memory.step, watchdog_step::give_up);
}

TEST(watchdog_rules, accepts_between_steps_start_a_new_ladder_not_step_3) {
    listener_watch w;
    auto no_accept = accepting(10);
    no_accept.accept_outstanding = false;
    EXPECT_EQ(w.see(check(t0, no_accept)).step, watchdog_step::rearm);
    auto d = w.see(canary(t0 + 300, canary_result::late, accepting(10), 10));
    EXPECT_EQ(d.step, watchdog_step::recreate);
    // Accepts completed (the canary was not among them), then it stalls again.
    auto later = accepting(15);
    later.accept_outstanding = false;
    d = w.see(check(t0 + 600, later));
    EXPECT_STREQ(d.rung->name, "new_stall_after_accepts");
    EXPECT_EQ(d.step, watchdog_step::rearm);
    EXPECT_EQ(d.next.ladder_accepts, 15u);
}

TEST(watchdog_rules, a_broken_invariant_leaves_the_queue_watch_alone) {
    listener_watch w;
    w.see(check(t0, accepting(10), 3));
    ASSERT_EQ(w.memory.queue_since_ms, t0);
    auto no_accept = accepting(10);
    no_accept.accept_outstanding = false;
    const auto d = w.see(check(t0 + 500, no_accept, 7));
    EXPECT_STREQ(d.rule->name, "accepting_without_accept");
    EXPECT_EQ(d.next.queue_since_ms, t0);
}

TEST(watchdog_rules, a_connection_arriving_at_a_quiet_listener_is_watched_afresh) {
    listener_watch w;
    w.see(check(t0, accepting(10), 0));
    const auto d = w.see(check(t0 + 10 * timeout, accepting(10), 1));
    EXPECT_EQ(d.verdict, watchdog_verdict::healthy);
    EXPECT_EQ(d.next.queue_since_ms, t0 + 10 * timeout);
}

TEST(watchdog_rules, a_short_probe_timeout_verifies_sooner) {
    auto o = rule_examples()["accepting_without_accept"].o;
    o.probe_timeout_ms = 50;
    EXPECT_EQ(judge(o, {}).verify_in_ms, 50u);
    o.probe_timeout_ms = 5000;
    EXPECT_EQ(judge(o, {}).verify_in_ms, 200u);
}

// core/health/README.md shows both tables; they must say what the code says.
namespace {

std::vector<std::vector<std::string>> readme_table(const std::string& header) {
    std::ifstream in(std::filesystem::path(TLSBROKER_SOURCE_DIR) / "core" / "health" / "README.md");
    std::vector<std::vector<std::string>> rows;
    bool in_table = false;
    for (std::string line; std::getline(in, line);) {
        if (line == header) {
            in_table = true;
            continue;
        }
        if (!in_table) continue;
        if (line.empty() || line[0] != '|') break;
        if (line.rfind("|---", 0) == 0) continue;
        std::vector<std::string> cells;
        std::stringstream ss(line.substr(1, line.size() - 2));
        for (std::string cell; std::getline(ss, cell, '|');) {
            cell.erase(0, cell.find_first_not_of(' '));
            cell.erase(cell.find_last_not_of(' ') + 1);
            cells.push_back(cell);
        }
        rows.push_back(cells);
    }
    return rows;
}

std::string joined(std::initializer_list<std::pair<bool, const char*>> flags) {
    std::string s;
    for (const auto& [on, text] : flags) {
        if (!on) continue;
        if (!s.empty()) s += ", ";
        s += text;
    }
    return s;
}

}  // namespace

TEST(watchdog_rules, readme_shows_the_rules_table_of_the_code) {
    const auto rows = readme_table("| # | rule | on | when | verdict | probe | also | reason |");
    const auto rules = watchdog_rules();
    ASSERT_EQ(rows.size(), rules.size()) << "core/health/README.md: the rules table";
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto& r = rules[i];
        const std::vector<std::string> want{
            std::to_string(i + 1),
            std::string("`") + r.name + "`",
            to_string(r.event),
            r.when,
            to_string(r.verdict),
            r.probe == probe_outcome::none ? "" : to_string(r.probe),
            joined({{r.invariant_violation, "invariant violation"}, {r.resets_ladder, "resets the ladder"}}),
            r.reason};
        EXPECT_EQ(rows[i], want) << "core/health/README.md, rules row " << i + 1;
    }
}

TEST(watchdog_rules, readme_shows_the_ladder_of_the_code) {
    const auto rows = readme_table("| # | rung | when | verdict | step | also |");
    const auto ladder = watchdog_ladder();
    ASSERT_EQ(rows.size(), ladder.size()) << "core/health/README.md: the ladder table";
    for (std::size_t i = 0; i < ladder.size(); ++i) {
        const auto& r = ladder[i];
        const std::vector<std::string> want{std::to_string(i + 1),
                                            std::string("`") + r.name + "`",
                                            r.when,
                                            to_string(r.verdict),
                                            to_string(r.step),
                                            joined({{r.starts_ladder, "starts the ladder"}, {r.verify, "verified"}})};
        EXPECT_EQ(rows[i], want) << "core/health/README.md, ladder row " << i + 1;
    }
}
