// The listener's states, written down once. Every branch of the accept completion leaves
// the listener in exactly one of them, and the watchdog checks the matching invariant:
//
//   accepting        one accept is outstanding
//   backing_off      a resume timer is pending (after a resource error or a re-create failure)
//   paused_at_limit  live connections >= max_connections; a closing connection resumes it
//   stopped          shut down (or not yet started); nothing outstanding
#pragma once

namespace tlsbroker::core {

enum class listener_state { stopped, accepting, backing_off, paused_at_limit };

constexpr const char* to_string(listener_state s) {
    switch (s) {
        case listener_state::stopped:
            return "stopped";
        case listener_state::accepting:
            return "accepting";
        case listener_state::backing_off:
            return "backing_off";
        case listener_state::paused_at_limit:
            return "paused_at_limit";
    }
    return "unknown";
}

// The verdict of the watchdog's last canary probe of a listener (shown in /status).
//
//   ok       the acceptor took the canary within probe_timeout_ms
//   slow     it did not, but accepts completed meanwhile (or the queue shrank): overload,
//            the canary waits behind real clients. Counted, logged; no recovery step
//   stalled  no accept completed for the whole window while the canary waited: the
//            recovery ladder runs (re-arm, re-create the socket, then report/exit)
enum class probe_outcome { none, ok, slow, stalled };

constexpr const char* to_string(probe_outcome o) {
    switch (o) {
        case probe_outcome::none:
            return "none";
        case probe_outcome::ok:
            return "ok";
        case probe_outcome::slow:
            return "slow";
        case probe_outcome::stalled:
            return "stalled";
    }
    return "unknown";
}

constexpr const char* meaning(probe_outcome o) {
    switch (o) {
        case probe_outcome::none:
            return "no probe finished yet";
        case probe_outcome::ok:
            return "the canary was accepted within probe_timeout_ms";
        case probe_outcome::slow:
            return "the canary waited longer than probe_timeout_ms behind real clients while accepts completed: "
                   "overload, not a stall; no recovery step taken";
        case probe_outcome::stalled:
            return "no accept completed for the whole probe window while the canary waited: "
                   "the recovery ladder runs";
    }
    return "";
}

}  // namespace tlsbroker::core
