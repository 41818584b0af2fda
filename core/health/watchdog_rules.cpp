#include "core/health/watchdog_rules.hpp"

#include <algorithm>
#include <array>

namespace tlsbroker::core {

namespace {

using obs = watchdog_observation;
using mem = watchdog_memory;
using ls = listener_state;
using verdict = watchdog_verdict;
using step = watchdog_step;

// The facts the rows and the memory share, each written once.

// Paused below its limit: a closing connection lowers `active` just before it posts the
// resume, so only a second check in a row that sees it counts.
bool low_pause(const obs& o) {
    return o.progress.state == ls::paused_at_limit && o.progress.active < o.progress.max_connections;
}

// The signature of leaked slots: at the limit, every slot held, and no session live on the
// endpoint, so nothing will ever give a slot back.
bool orphaned(const obs& o) {
    const auto& p = o.progress;
    return p.state == ls::paused_at_limit && p.active > 0 && p.active >= p.max_connections && p.live_sessions == 0;
}

// A closing session leaves the registry just before it gives its slot back: only a state
// that lasts a probe timeout counts.
bool orphaned_long(const obs& o, const mem& m) {
    return orphaned(o) && m.orphaned_since_ms && o.now_ms - *m.orphaned_since_ms >= o.probe_timeout_ms;
}

bool queue_waiting(const obs& o) { return o.queue_depth && *o.queue_depth > 0 && o.progress.state == ls::accepting; }

// Accepts are counted, not timed: one that completes while the queue stays full (overload)
// is progress, and so is one that completes just after the queue was first seen.
bool queue_stuck(const obs& o, const mem& m) {
    return queue_waiting(o) && m.queue_since_ms && o.progress.accepts == m.queue_accepts &&
           o.now_ms - *m.queue_since_ms > o.probe_timeout_ms;
}

std::uint64_t canary_accepted(const obs& o) { return o.progress.accepts - o.canary_accepts0; }

bool canary_draining(const obs& o) { return o.canary_depth0 && o.queue_depth && *o.queue_depth < *o.canary_depth0; }

// The rules. For each event the first row that holds is the finding; each event ends in an
// "otherwise" row. core/health/README.md shows this table.
constexpr std::array<watchdog_rule, 13> rules{{
    {.name = "accepting_without_accept",
     .event = watch_event::check,
     .when = "accepting, with no accept outstanding and no timer pending",
     .holds =
         [](const obs& o, const mem&) {
             return o.progress.state == ls::accepting && !o.progress.accept_outstanding && !o.progress.timer_pending;
         },
     .verdict = verdict::stalled,
     .invariant_violation = true,
     .reason = "accepting with no accept outstanding"},
    {.name = "backing_off_without_timer",
     .event = watch_event::check,
     .when = "backing_off, with no resume timer pending",
     .holds = [](const obs& o, const mem&) { return o.progress.state == ls::backing_off && !o.progress.timer_pending; },
     .verdict = verdict::stalled,
     .invariant_violation = true,
     .reason = "backing off with no resume timer"},
    {.name = "paused_below_limit",
     .event = watch_event::check,
     .when = "paused_at_limit below max_connections, at this check and the one before",
     .holds = [](const obs& o, const mem& m) { return low_pause(o) && m.low_pause_seen; },
     .verdict = verdict::stalled,
     .invariant_violation = true,
     .reason = "paused below its connection limit"},
    {.name = "slots_held_by_nobody",
     .event = watch_event::check,
     .when = "paused_at_limit with every slot held and no session live, for probe_timeout_ms or longer",
     .holds = [](const obs& o, const mem& m) { return orphaned_long(o, m); },
     .verdict = verdict::degraded,
     .reason = "paused at its limit: {active} of {max} slots held but no session is live (leaked slots?); "
               "it accepts nobody until a slot is given back"},
    {.name = "queue_not_drained",
     .event = watch_event::check,
     .when = "accepting, the accept queue non-empty, and no accept completed for longer than probe_timeout_ms",
     .holds = [](const obs& o, const mem& m) { return queue_stuck(o, m); },
     .verdict = verdict::stalled,
     .reason = "accept queue not drained: {depth} connections waiting and no accept completed"},
    {.name = "at_limit",
     .event = watch_event::check,
     .when = "paused_at_limit, none of the above (a closing connection resumes it)",
     .holds = [](const obs& o, const mem&) { return o.progress.state == ls::paused_at_limit; },
     .verdict = verdict::healthy,
     .reason = "paused at its connection limit"},
    {.name = "backing_off",
     .event = watch_event::check,
     .when = "backing_off, with its resume timer pending (after a resource error)",
     .holds = [](const obs& o, const mem&) { return o.progress.state == ls::backing_off; },
     .verdict = verdict::degraded,
     .reason = "backing off after a resource error; its timer resumes it"},
    {.name = "check_ok",
     .event = watch_event::check,
     .when = "otherwise",
     .holds = [](const obs&, const mem&) { return true; },
     .verdict = verdict::healthy,
     .reason = "the invariant holds and the accept queue drains"},
    {.name = "canary_taken",
     .event = watch_event::canary,
     .when = "taken within probe_timeout_ms",
     .holds = [](const obs& o, const mem&) { return o.canary == canary_result::taken; },
     .verdict = verdict::healthy,
     .probe = probe_outcome::ok,
     .resets_ladder = true,
     .reason = "the canary was taken in time"},
    {.name = "canary_connect_failed",
     .event = watch_event::canary,
     .when = "its connect failed",
     .holds = [](const obs& o, const mem&) { return o.canary == canary_result::connect_failed; },
     .verdict = verdict::stalled,
     .probe = probe_outcome::stalled,
     .reason = "canary probe failed (connect: {error})"},
    {.name = "canary_late_behind_clients",
     .event = watch_event::canary,
     .when = "late, but accepts completed during the probe window (or the queue shrank)",
     .holds = [](const obs& o, const mem&) { return canary_accepted(o) > 0 || canary_draining(o); },
     .verdict = verdict::degraded,
     .probe = probe_outcome::slow,
     .resets_ladder = true,
     .reason = "{accepted} accepts completed meanwhile{still_queued}"},
    {.name = "canary_late_not_accepting",
     .event = watch_event::canary,
     .when = "late, and the listener no longer accepting (paused at its limit or backing off since)",
     .holds = [](const obs& o, const mem&) { return o.progress.state != ls::accepting; },
     .verdict = verdict::degraded,
     .probe = probe_outcome::slow,
     .resets_ladder = true,
     .reason = "the listener is {state}"},
    {.name = "canary_late_no_accept",
     .event = watch_event::canary,
     .when = "otherwise: late, with no accept completed during the probe window",
     .holds = [](const obs&, const mem&) { return true; },
     .verdict = verdict::stalled,
     .probe = probe_outcome::stalled,
     .reason = "canary probe failed (not accepted within probe_timeout_ms, and no accept completed meanwhile)"},
}};

// The ladder, walked when the finding is a stall; the first rung that holds says what to do.
// core/health/README.md shows this table.
constexpr std::array<watchdog_rung, 6> ladder{{
    {.name = "gave_up_before",
     .when = "the ladder ran out before (step 3 taken)",
     .holds = [](const obs&, const mem& m) { return m.step == step::give_up; },
     .verdict = verdict::gave_up,
     .step = step::none},
    {.name = "quiet",
     .when = "the last step was taken less than probe_timeout_ms ago: it gets that long to work",
     .holds = [](const obs& o, const mem& m) { return o.now_ms < m.quiet_until_ms; },
     .verdict = verdict::stalled,
     .step = step::none},
    {.name = "new_stall_after_accepts",
     .when = "a step was taken, but accepts completed since the ladder began: a new stall",
     .holds = [](const obs& o, const mem& m) { return m.step != step::none && o.accepts_now != m.ladder_accepts; },
     .verdict = verdict::stalled,
     .step = step::rearm,
     .starts_ladder = true,
     .verify = true},
    {.name = "first_stall",
     .when = "no step taken yet",
     .holds = [](const obs&, const mem& m) { return m.step == step::none; },
     .verdict = verdict::stalled,
     .step = step::rearm,
     .starts_ladder = true,
     .verify = true},
    {.name = "rearm_did_not_help",
     .when = "step 1 taken, and no accept completed since",
     .holds = [](const obs&, const mem& m) { return m.step == step::rearm; },
     .verdict = verdict::stalled,
     .step = step::recreate,
     .verify = true},
    {.name = "recreate_did_not_help",
     .when = "step 2 taken, and no accept completed since step 1",
     .holds = [](const obs&, const mem& m) { return m.step == step::recreate; },
     .verdict = verdict::gave_up,
     .step = step::give_up},
}};

void replace(std::string& s, std::string_view key, const std::string& value) {
    if (const auto at = s.find(key); at != std::string::npos) s.replace(at, key.size(), value);
}

std::string explain(const watchdog_rule& r, const obs& o) {
    std::string s = r.reason;
    if (s.find('{') == std::string::npos) return s;
    replace(s, "{depth}", o.queue_depth ? std::to_string(*o.queue_depth) : "?");
    replace(s, "{error}", o.canary_error);
    replace(s, "{accepted}", std::to_string(canary_accepted(o)));
    replace(s, "{still_queued}",
            o.queue_depth ? ", " + std::to_string(*o.queue_depth) + " connections still queued" : std::string());
    replace(s, "{state}", to_string(o.progress.state));
    replace(s, "{active}", std::to_string(o.progress.active));
    replace(s, "{max}", std::to_string(o.progress.max_connections));
    return s;
}

// What a check leaves in memory. A broken invariant ends the check: the slots and the queue
// are looked at again at the next one.
void remember_check(const obs& o, const mem& m, const watchdog_rule& r, watchdog_decision& d) {
    auto& n = d.next;
    n.low_pause_seen = low_pause(o);
    if (r.invariant_violation) return;
    if (!orphaned(o)) {
        d.orphans_cleared = m.orphaned_reported;
        n.orphaned_since_ms.reset();
        n.orphaned_reported = false;
    } else {
        if (!m.orphaned_since_ms) n.orphaned_since_ms = o.now_ms;
        d.orphans_reported = orphaned_long(o, m) && !m.orphaned_reported;
        n.orphaned_reported = m.orphaned_reported || d.orphans_reported;
        d.orphans_held = n.orphaned_reported;
    }
    if (!o.queue_depth) return;
    const bool first_sight_or_progress = !m.queue_since_ms || o.progress.accepts != m.queue_accepts;
    if (queue_waiting(o) && first_sight_or_progress) {
        n.queue_since_ms = o.now_ms;  // watch afresh
        n.queue_accepts = o.progress.accepts;
    } else if (!queue_waiting(o) || queue_stuck(o, m)) {
        n.queue_since_ms.reset();  // nothing waits, or this stall has been acted on
    }
}

// What a canary leaves in memory: accepts complete again, so the next stall starts the
// ladder from the bottom (after step 3 nothing does).
void remember_canary(const mem& m, const watchdog_rule& r, watchdog_decision& d) {
    if (r.resets_ladder && (m.step == step::rearm || m.step == step::recreate)) {
        d.ladder_reset_from = m.step;
        d.next.step = step::none;
    }
}

// The first row that fits the event and holds. Each event's rows end in an "otherwise" row
// (the unit test checks it); were one missing, that event's last row would answer.
template <typename Row, std::size_t N, typename Fits>
const Row& first(const std::array<Row, N>& table, const obs& o, const mem& m, Fits fits) {
    const Row* last = &table.back();
    for (const auto& r : table) {
        if (!fits(r)) continue;
        if (r.holds(o, m)) return r;
        last = &r;
    }
    return *last;
}

}  // namespace

std::span<const watchdog_rule> watchdog_rules() { return rules; }
std::span<const watchdog_rung> watchdog_ladder() { return ladder; }

watchdog_decision judge(const watchdog_observation& o, const watchdog_memory& m) {
    watchdog_decision d;
    d.next = m;
    d.rule = &first(rules, o, m, [&](const watchdog_rule& r) { return r.event == o.event; });
    d.verdict = d.rule->verdict;
    d.reason = explain(*d.rule, o);
    if (o.event == watch_event::check)
        remember_check(o, m, *d.rule, d);
    else
        remember_canary(m, *d.rule, d);
    if (d.rule->verdict != verdict::stalled) return d;

    d.rung = &first(ladder, o, m, [](const watchdog_rung&) { return true; });
    d.verdict = d.rung->verdict;
    d.step = d.rung->step;
    if (d.step == step::none) return d;
    if (d.rung->starts_ladder) d.next.ladder_accepts = o.accepts_now;
    d.next.step = d.step;
    d.next.quiet_until_ms = o.now_ms + o.probe_timeout_ms;
    if (d.rung->verify) d.verify_in_ms = std::min(o.probe_timeout_ms, watchdog_verify_cap_ms);
    return d;
}

const char* to_string(watch_event e) { return e == watch_event::check ? "check" : "canary"; }

const char* to_string(watchdog_verdict v) {
    switch (v) {
        case verdict::healthy:
            return "healthy";
        case verdict::degraded:
            return "degraded";
        case verdict::stalled:
            return "stalled";
        case verdict::gave_up:
            return "gave_up";
    }
    return "unknown";
}

const char* to_string(watchdog_step s) {
    switch (s) {
        case step::none:
            return "none";
        case step::rearm:
            return "rearm";
        case step::recreate:
            return "recreate";
        case step::give_up:
            return "give_up";
    }
    return "unknown";
}

}  // namespace tlsbroker::core
