#include "service/posix/journal.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core/record_view.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/make_shared.hpp>
#include <cerrno>
#include <charconv>
#include <cstdlib>

namespace tlsbroker::service {

namespace bl = boost::log;

namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
    if (text.empty()) return false;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
    return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

class journal_backend : public bl::sinks::basic_sink_backend<bl::sinks::synchronized_feeding> {
public:
    explicit journal_backend(int fd) : fd_(fd) {}

    void consume(const bl::record_view& rec) const {
        const auto sev = bl::extract<log::level>(log::severity_attribute, rec);
        const auto msg = bl::extract<std::string>("Message", rec);
        auto line = journal_line(sev ? *sev : log::level::info, msg ? std::string_view(*msg) : std::string_view());
        line += '\n';
        // One write per line, so that journald never sees half a line between two threads'.
        std::string_view rest = line;
        while (!rest.empty()) {
            const auto n = ::write(fd_, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // nowhere left to say it; log::failed_lines() does not see this
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
};

}  // namespace

bool journal_stream_matches(std::string_view journal_stream, std::uint64_t dev, std::uint64_t ino) {
    const auto colon = journal_stream.find(':');
    if (colon == std::string_view::npos) return false;
    std::uint64_t d = 0, i = 0;
    if (!parse_u64(journal_stream.substr(0, colon), d) || !parse_u64(journal_stream.substr(colon + 1), i)) return false;
    return d == dev && i == ino;
}

bool stderr_is_journal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (env == nullptr) return false;
    struct stat st {};
    if (::fstat(2, &st) != 0) return false;
    return journal_stream_matches(env, static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
}

int journal_priority(log::level l) {
    switch (l) {
        case log::level::error:
            return 3;
        case log::level::warning:
            return 4;
        case log::level::info:
            return 6;
        case log::level::debug:
        case log::level::trace:
            return 7;
    }
    return 6;
}

std::string journal_line(log::level l, std::string_view message) {
    std::string out = "<";
    out += static_cast<char>('0' + journal_priority(l));
    out += '>';
    out += message;
    return out;
}

boost::shared_ptr<bl::sinks::sink> make_journal_sink(int fd) {
    return boost::make_shared<bl::sinks::synchronous_sink<journal_backend>>(boost::make_shared<journal_backend>(fd));
}

}  // namespace tlsbroker::service
