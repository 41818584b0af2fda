// The folders of core/ include each other only as core/README.md's table allows, and every
// source file of core/ sits in one of those folders. The table is read from the README, so
// the rule and its documentation are one fact.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const fs::path core_dir = fs::path(TLSBROKER_SOURCE_DIR) / "core";

// folder -> the folders it may include, from the "may include" table of core/README.md.
std::map<std::string, std::set<std::string>> allowed_includes() {
    std::ifstream in(core_dir / "README.md");
    std::map<std::string, std::set<std::string>> rules;
    bool in_table = false;
    const std::regex row(R"(^\| `([a-z_]+)/` \|([^|]*)\|\s*$)");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("| folder | may include |", 0) == 0) in_table = true;
        if (!in_table) continue;
        std::smatch m;
        if (!std::regex_match(line, m, row)) continue;
        auto& allowed = rules[m[1]];
        allowed.insert(m[1]);
        std::stringstream names(m[2].str());
        for (std::string name; std::getline(names, name, ',');) {
            name.erase(0, name.find_first_not_of(' '));
            name.erase(name.find_last_not_of(' ') + 1);
            if (!name.empty()) allowed.insert(name);
        }
    }
    return rules;
}

bool is_source(const fs::path& p) {
    const auto ext = p.extension();
    return ext == ".cpp" || ext == ".hpp" || ext == ".in";
}

}  // namespace

TEST(layering, core_readme_has_a_rule_for_every_folder) {
    const auto rules = allowed_includes();
    ASSERT_GE(rules.size(), 5u) << "the 'may include' table of core/README.md was not found";
    for (const auto& e : fs::directory_iterator(core_dir)) {
        if (e.is_directory()) {
            const auto name = e.path().filename().string();
            EXPECT_TRUE(rules.count(name)) << "core/" << name << "/ has no row in core/README.md";
            EXPECT_TRUE(fs::exists(e.path() / "README.md")) << "core/" << name << "/ has no README.md";
        } else {
            EXPECT_FALSE(is_source(e.path())) << e.path().filename() << " sits in core/ outside any folder";
        }
    }
}

TEST(layering, core_folders_include_only_what_the_table_allows) {
    const auto rules = allowed_includes();
    const std::regex include(R"(^\s*#\s*include\s+"core/([a-z_]+)/)");
    std::size_t checked = 0;
    for (const auto& [folder, allowed] : rules) {
        const auto dir = core_dir / folder;
        ASSERT_TRUE(fs::is_directory(dir)) << "core/README.md names core/" << folder << "/, which does not exist";
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (!e.is_regular_file() || !is_source(e.path())) continue;
            std::ifstream in(e.path());
            std::size_t n = 0;
            for (std::string line; std::getline(in, line);) {
                ++n;
                std::smatch m;
                if (!std::regex_search(line, m, include)) continue;
                ++checked;
                EXPECT_TRUE(allowed.count(m[1]))
                    << fs::relative(e.path(), TLSBROKER_SOURCE_DIR).string() << ":" << n << " includes core/" << m[1]
                    << "/, which core/" << folder << "/ may not (core/README.md)";
            }
        }
    }
    EXPECT_GT(checked, 50u);  // the walk found the includes
}
