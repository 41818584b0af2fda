#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/test_certs.hpp"
#include "support/wait.hpp"

namespace tlsbroker::test {

process::process(options o) : opts_(std::move(o)) {
    std::vector<std::string> argv_s{TLSBROKER_EXE};
    argv_s.insert(argv_s.end(), opts_.args.begin(), opts_.args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        const int fd = ::open(opts_.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        if (opts_.max_fds) {
            rlimit rl{*opts_.max_fds, opts_.hard_fds.value_or(*opts_.max_fds)};
            ::setrlimit(RLIMIT_NOFILE, &rl);
        }
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
}

process::~process() {
    if (!code_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
}

std::string process::output() const {
    std::ifstream f(opts_.output);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::optional<std::string> process::wait_for_output(const std::string& pattern,
                                                    std::chrono::milliseconds timeout) const {
    const std::regex re(pattern);
    std::optional<std::string> found;
    wait_until(
        [&] {
            std::smatch m;
            const auto out = output();
            if (!std::regex_search(out, m, re)) return false;
            found = m.size() > 1 ? m[1].str() : m[0].str();
            return true;
        },
        timeout);
    return found;
}

void process::signal(int sig) { ::kill(pid_, sig); }

std::optional<int> process::wait_exit(std::chrono::milliseconds timeout) {
    if (code_) return code_;
    wait_until(
        [&] {
            int st = 0;
            const auto r = ::waitpid(pid_, &st, WNOHANG);
            if (r != pid_) return false;
            code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return true;
        },
        timeout);
    return code_;
}

std::pair<int, std::string> run_to_completion(const std::vector<std::string>& args, const std::filesystem::path& dir) {
    process p({args, dir / "run.out"});
    const auto code = p.wait_exit(std::chrono::seconds(30));
    return {code.value_or(-1), p.output()};
}

broker_process start_broker_process(const std::filesystem::path& dir, nlohmann::json cfg,
                                    std::optional<unsigned> max_fds, std::optional<unsigned> hard_fds) {
    cfg["log"]["level"] = "info";  // the bound ports are read from the log
    write_file(dir / "broker.json", cfg.dump(2));
    broker_process b;
    b.proc = std::make_unique<process>(
        process::options{{"--config", (dir / "broker.json").string()}, dir / "broker.out", max_fds, hard_fds});
    const auto port = b.proc->wait_for_output(R"(accepting on 127\.0\.0\.1:(\d+))", std::chrono::seconds(10));
    const auto status =
        b.proc->wait_for_output(R"(status endpoint on http://127\.0\.0\.1:(\d+))", std::chrono::seconds(10));
    if (port) b.port = static_cast<std::uint16_t>(std::stoi(*port));
    if (status) b.status_port = static_cast<std::uint16_t>(std::stoi(*status));
    return b;
}

}  // namespace tlsbroker::test
