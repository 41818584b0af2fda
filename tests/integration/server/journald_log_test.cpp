// Under systemd the log goes to the journal with priorities: when JOURNAL_STREAM names the
// broker's own stderr (device:inode), every line is "<N>message" with no timestamp of its
// own (info 6, warning 4); when it names another file (inherited from a parent whose stderr
// was the journal), the console keeps its usual lines.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <regex>
#include <sstream>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/notify_recorder.hpp"
#include "support/process.hpp"
#include "support/test_certs.hpp"

using namespace tlsbroker;
using namespace std::chrono_literals;

namespace {

// The broker's output file made before it starts (the child opens it with O_TRUNC, which
// keeps the inode), and its "dev:ino".
std::string make_output(const std::filesystem::path& file) {
    test::write_file(file, "");
    struct stat st {};
    EXPECT_EQ(::stat(file.c_str(), &st), 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

nlohmann::json config_with_a_warning(const std::filesystem::path& dir, std::uint16_t backend_port) {
    auto cfg = test::base_config(dir, backend_port);
    // A private key others may read: one warning at load.
    std::filesystem::permissions(cfg["listeners"][0]["tls"]["private_key"].get<std::string>(),
                                 std::filesystem::perms::others_read, std::filesystem::perm_options::add);
    return cfg;
}

}  // namespace

TEST(journald_log, lines_carry_their_priority_and_no_timestamp_when_stderr_is_the_journal) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("journald");
    test::scoped_env stream("JOURNAL_STREAM", make_output(dir / "broker.out"));
    auto b = test::start_broker_process(dir, config_with_a_warning(dir, backend.port()));
    ASSERT_NE(b.port, 0) << b.proc->output();
    b.proc->signal(SIGTERM);
    ASSERT_EQ(b.proc->wait_exit(15s).value_or(-1), 0) << b.proc->output();

    const auto out = b.proc->output();
    EXPECT_NE(out.find("<6>tlsbroker "), std::string::npos) << out;
    EXPECT_NE(out.find("<4>config: /listeners/0/tls/private_key: private key "), std::string::npos) << out;
    EXPECT_NE(out.find("<6>stopped\n"), std::string::npos) << out;
    std::istringstream lines(out);
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n)
        EXPECT_TRUE(std::regex_match(line, std::regex("<[0-7]>[^<].*"))) << line;
    EXPECT_GT(n, 3);
}

TEST(journald_log, a_journal_stream_that_is_not_stderr_changes_nothing) {
    test::echo_backend backend;
    const auto dir = test::make_temp_dir("journald-other");
    const auto other = make_output(dir / "elsewhere");
    test::scoped_env stream("JOURNAL_STREAM", other);
    auto b = test::start_broker_process(dir, test::base_config(dir, backend.port()));
    ASSERT_NE(b.port, 0) << b.proc->output();
    b.proc->signal(SIGTERM);
    ASSERT_EQ(b.proc->wait_exit(15s).value_or(-1), 0) << b.proc->output();
    const auto out = b.proc->output();
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[info\] tlsbroker )")))
        << out;
    EXPECT_EQ(out.find("<6>"), std::string::npos) << out;
}
