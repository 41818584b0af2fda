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
    case listener_state::stopped: return "stopped";
    case listener_state::accepting: return "accepting";
    case listener_state::backing_off: return "backing_off";
    case listener_state::paused_at_limit: return "paused_at_limit";
    }
    return "unknown";
}

}  // namespace tlsbroker::core
