// Waiting for a condition with a deadline: the only way tests wait.
#pragma once

#include <chrono>
#include <functional>

namespace tlsbroker::test {

// Polls `cond` every few milliseconds until it is true (returns true) or `timeout` passes.
bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace tlsbroker::test
