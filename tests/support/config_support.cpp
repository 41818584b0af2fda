#include "support/config_support.hpp"

#include <gtest/gtest.h>

namespace tlsbroker::test {

std::string all(const config::load_result& r) {
    std::string s;
    for (const auto& e : r.errors) s += e.to_string() + "\n";
    return s;
}

config::config_ptr load_config(const nlohmann::json& j, const std::filesystem::path& dir) {
    const auto r = config::load_text(j.dump(), dir);
    if (!r.ok()) ADD_FAILURE() << all(r);
    return r.config;
}

}  // namespace tlsbroker::test
