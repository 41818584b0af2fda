#include "config/config.hpp"

#include <thread>

namespace tlsbroker::config {

std::uint32_t broker_config::effective_threads() const {
    if (threads != 0) return threads;
    const auto cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1u : cores;
}

}  // namespace tlsbroker::config
