// The watchdog's rules, apart from its mechanism (watchdog.cpp): one pure function reads what
// was observed of a listener and what the watchdog remembers of it, and returns a verdict and
// the next step on the recovery ladder. It walks two tables, first row that holds wins:
//   the rules   what an observation means (healthy, degraded, stalled);
//   the ladder  what a stall does, given the steps already taken (wait, re-arm, re-create,
//               give up).
// No timers, no I/O, no clock: time comes in as `now_ms`. core/health/README.md shows both
// tables row for row; tests/unit/health/watchdog_rules_test.cpp runs every row and checks that
// the README agrees with the code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/accept/accept_loop.hpp"
#include "core/accept/listener_state.hpp"

namespace tlsbroker::core {

// What the watchdog looked at: a periodic check (the state invariant, the slots, the accept
// queue) or the end of a canary probe.
enum class watch_event { check, canary };

enum class canary_result {
    taken,           // the acceptor took it within probe_timeout_ms
    connect_failed,  // the connect itself failed
    late,            // not taken within probe_timeout_ms
};

enum class watchdog_verdict { healthy, degraded, stalled, gave_up };

// The recovery ladder's steps, in order (the number is the step's number in the logs).
enum class watchdog_step { none, rearm, recreate, give_up };

struct watchdog_observation {
    watch_event event = watch_event::check;
    std::uint64_t now_ms = 0;                  // a monotonic clock
    std::uint32_t probe_timeout_ms = 0;        // watchdog.probe_timeout_ms
    accept_progress progress;                  // read on the listener's strand
    std::optional<std::uint32_t> queue_depth;  // the kernel's accept queue, where the OS reports it
    std::uint64_t accepts_now = 0;             // the accept count when judged (the ladder compares it)
    // A canary event: how it ended, and the accept count and queue depth when it was sent.
    canary_result canary = canary_result::taken;
    std::string canary_error;  // connect_failed: the error's message
    std::uint64_t canary_accepts0 = 0;
    std::optional<std::uint32_t> canary_depth0;
};

// What the watchdog remembers of a listener between observations; judge() returns the next.
struct watchdog_memory {
    bool low_pause_seen = false;                     // the last check saw it paused below its limit
    std::optional<std::uint64_t> queue_since_ms;     // a non-empty queue watched since (no accept since)
    std::uint64_t queue_accepts = 0;                 // the accept count then
    std::optional<std::uint64_t> orphaned_since_ms;  // at its limit with no live session since
    bool orphaned_reported = false;                  // ... and reported in this episode
    watchdog_step step = watchdog_step::none;        // the last step taken
    std::uint64_t quiet_until_ms = 0;                // the last step has until then to work
    std::uint64_t ladder_accepts = 0;                // the accept count when the ladder began
};

using watchdog_condition = bool (*)(const watchdog_observation&, const watchdog_memory&);

// A row of the rules: what an observation means.
struct watchdog_rule {
    const char* name = "";
    watch_event event = watch_event::check;
    const char* when = "";  // the condition in words (the README's column)
    watchdog_condition holds = nullptr;
    watchdog_verdict verdict = watchdog_verdict::healthy;  // stalled: the ladder says what to do
    probe_outcome probe = probe_outcome::none;             // canary rows: the probe's outcome
    bool invariant_violation = false;                      // counted in invariant_violations
    bool resets_ladder = false;                            // accepts complete: the next stall starts the ladder afresh
    const char* reason = "";                               // {placeholders} are filled from the observation
};

// A row of the ladder: what a stall does.
struct watchdog_rung {
    const char* name = "";
    const char* when = "";
    watchdog_condition holds = nullptr;
    watchdog_verdict verdict = watchdog_verdict::stalled;
    watchdog_step step = watchdog_step::none;  // none: no step now
    bool starts_ladder = false;                // the ladder (re)starts here: its accept count is taken
    bool verify = false;                       // an extra probe checks the step soon
};

struct watchdog_decision {
    const watchdog_rule* rule = nullptr;  // the finding
    const watchdog_rung* rung = nullptr;  // set when the finding is a stall
    watchdog_verdict verdict = watchdog_verdict::healthy;
    watchdog_step step = watchdog_step::none;
    std::string reason;
    std::uint32_t verify_in_ms = 0;  // probe again this soon after the step (0: no extra probe)
    watchdog_memory next;
    // For the mechanism's log lines and /status.
    bool orphans_reported = false;                          // slots held by nobody: the first report
    bool orphans_held = false;                              // slots held by nobody, at every check it lasts
    bool orphans_cleared = false;                           // reported before, given back now
    watchdog_step ladder_reset_from = watchdog_step::none;  // accepts again after this step
};

// The tables, in the order judge() walks them.
std::span<const watchdog_rule> watchdog_rules();
std::span<const watchdog_rung> watchdog_ladder();

// Pure: the same observation and memory always give the same decision.
watchdog_decision judge(const watchdog_observation& o, const watchdog_memory& m);

// Only an accepting listener is probed: one paused at its limit or backing off holds a canary
// back for a reason the checks cover.
constexpr bool worth_a_probe(listener_state s) { return s == listener_state::accepting; }

// An extra probe verifies a step this soon: min(probe_timeout_ms, 200 ms).
inline constexpr std::uint32_t watchdog_verify_cap_ms = 200;

const char* to_string(watch_event e);
const char* to_string(watchdog_verdict v);
const char* to_string(watchdog_step s);

}  // namespace tlsbroker::core
