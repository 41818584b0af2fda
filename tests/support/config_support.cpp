#include "support/config_support.hpp"

#include <gtest/gtest.h>

namespace tlsbroker::test {

std::string all(const config::load_result& r) {
    std::string s;
    for (const auto& e : r.errors) s += e.to_string() + "\n";
    return s;
}

bool has_error(const config::load_result& r, const std::string& pointer, const std::string& needle) {
    for (const auto& e : r.errors)
        if (e.pointer == pointer && e.message.find(needle) != std::string::npos) return true;
    return false;
}

std::vector<std::string> error_pointers(const config::load_result& r) {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.pointer);
    return out;
}

config::config_ptr load_config(const nlohmann::json& j, const std::filesystem::path& dir) {
    const auto r = config::load_text(j.dump(), dir);
    if (!r.ok()) ADD_FAILURE() << all(r);
    return r.config;
}

}  // namespace tlsbroker::test
