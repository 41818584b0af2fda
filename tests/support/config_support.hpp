// Config helpers shared by the tests: every load error as text, and a config from JSON.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "config/loader.hpp"

namespace tlsbroker::test {

// Every error of `r`, one per line ("" when it loaded).
std::string all(const config::load_result& r);
// Loads `j` (paths resolved against `dir`); a failure is reported as a test failure and
// yields nullptr.
config::config_ptr load_config(const nlohmann::json& j, const std::filesystem::path& dir);

}  // namespace tlsbroker::test
