// Config helpers shared by the tests: every load error as text, finding one, and a config
// from JSON.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace tlsbroker::test {

// Every error of `r`, one per line ("" when it loaded).
std::string all(const config::load_result& r);
// True when `r` has an error at `pointer` whose message contains `needle`.
bool has_error(const config::load_result& r, const std::string& pointer, const std::string& needle = "");
// The pointer of each error of `r`, in order.
std::vector<std::string> error_pointers(const config::load_result& r);
// Loads `j` (paths resolved against `dir`); a failure is reported as a test failure and
// yields nullptr.
config::config_ptr load_config(const nlohmann::json& j, const std::filesystem::path& dir);

}  // namespace tlsbroker::test
