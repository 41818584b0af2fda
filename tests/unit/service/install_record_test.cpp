// A failed MSI install takes back the config files it wrote, and only those
// (service/windows/install_record.*).
#include "service/windows/install_record.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace tlsbroker::service;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
    fs::path path =
        fs::temp_directory_path() / ("tb-install-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    temp_dir() { fs::create_directories(path); }
    ~temp_dir() { fs::remove_all(path); }
    void touch(const std::string& name) const { std::ofstream(path / name) << "x"; }
};

}  // namespace

TEST(install_record, rollback_removes_what_this_install_created_and_nothing_else) {
    temp_dir d;
    d.touch("server.crt");  // an earlier install's, kept
    d.touch("tlsbroker.json");
    d.touch("server.key");
    ASSERT_EQ(record_install(d.path, {"tlsbroker.json", "server.key"}), "");
    EXPECT_TRUE(fs::exists(d.path / install_record_name));
    const auto removed = roll_back_install(d.path);
    EXPECT_EQ(removed, (std::vector<std::string>{"tlsbroker.json", "server.key"}));
    EXPECT_FALSE(fs::exists(d.path / "tlsbroker.json"));
    EXPECT_FALSE(fs::exists(d.path / "server.key"));
    EXPECT_TRUE(fs::exists(d.path / "server.crt"));
    EXPECT_FALSE(fs::exists(d.path / install_record_name));
}

TEST(install_record, commit_keeps_the_files_and_a_later_rollback_removes_nothing) {
    temp_dir d;
    d.touch("tlsbroker.json");
    ASSERT_EQ(record_install(d.path, {"tlsbroker.json"}), "");
    commit_install(d.path);
    EXPECT_FALSE(fs::exists(d.path / install_record_name));
    EXPECT_TRUE(roll_back_install(d.path).empty());
    EXPECT_TRUE(fs::exists(d.path / "tlsbroker.json"));
}

TEST(install_record, keeping_a_config_clears_a_stale_record) {
    temp_dir d;
    d.touch("tlsbroker.json");
    ASSERT_EQ(record_install(d.path, {"tlsbroker.json"}), "");  // an install that never committed
    ASSERT_EQ(record_install(d.path, {}), "");                  // the next one kept the config
    EXPECT_TRUE(roll_back_install(d.path).empty());
    EXPECT_TRUE(fs::exists(d.path / "tlsbroker.json"));
}

TEST(install_record, names_outside_the_folder_are_ignored) {
    temp_dir d;
    const auto outside = d.path.parent_path() / ("tb-outside-" + std::to_string(::getpid()));
    std::ofstream(outside) << "x";
    std::ofstream(d.path / install_record_name) << "../" << outside.filename().string() << "\n..\n";
    EXPECT_TRUE(roll_back_install(d.path).empty());
    EXPECT_TRUE(fs::exists(outside));
    fs::remove(outside);
}
