// The column limit in .clang-format is kept, not half-kept: no C++ line of the product or its
// tests is longer (clang-format keeps new code within it; this test catches the rest).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

namespace fs = std::filesystem;

namespace {
std::size_t column_limit() {
    std::ifstream in(fs::path(TLSBROKER_SOURCE_DIR) / ".clang-format");
    const std::regex key(R"(^ColumnLimit:\s*(\d+))");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, key)) return std::stoul(m[1]);
    return 0;
}
}  // namespace

TEST(source_style, no_line_is_longer_than_the_column_limit) {
    const auto limit = column_limit();
    ASSERT_GT(limit, 0u) << ".clang-format has no ColumnLimit";
    std::size_t files = 0;
    for (const char* dir : {"core", "config", "service", "tests"}) {
        for (const auto& e : fs::recursive_directory_iterator(fs::path(TLSBROKER_SOURCE_DIR) / dir)) {
            const auto ext = e.path().extension();
            if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h")) continue;
            ++files;
            std::ifstream in(e.path());
            std::size_t n = 0;
            for (std::string line; std::getline(in, line);) {
                ++n;
                // Columns, not bytes: UTF-8 continuation bytes take no column.
                std::size_t cols = 0;
                for (unsigned char c : line) cols += (c & 0xC0) != 0x80;
                EXPECT_LE(cols, limit) << fs::relative(e.path(), TLSBROKER_SOURCE_DIR).string() << ":" << n;
            }
        }
    }
    EXPECT_GT(files, 100u);  // the walk found the tree
}
