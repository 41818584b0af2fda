// Reads one entry of "listeners" (its TLS material, backends, limits and timers).
#pragma once

#include <filesystem>
#include <vector>

#include "config/json_reader.hpp"

namespace tlsbroker::config {

// `index` names the listener when it has no "name"; paths resolve against `base`.
void read_listener(json_object o, listener_config& l, std::size_t index, const std::filesystem::path& base,
                   std::vector<config_error>& errors);

}  // namespace tlsbroker::config
