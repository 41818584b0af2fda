#include "log.hpp"

#include <algorithm>
#include <atomic>
#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/attribute_value_impl.hpp>
#include <boost/log/attributes/constant.hpp>
#include <boost/log/attributes/function.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_file_backend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/utility/exception_handler.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>

#include "core/common/local_time.hpp"
#include "core/common/log_json.hpp"
#include "log_folding.hpp"

namespace tlsbroker::log {

namespace bl = boost::log;
namespace expr = boost::log::expressions;
using sys_clock = std::chrono::system_clock;

namespace {

constexpr const char* timestamp_attribute = "TimeStamp";

using logger_type = bl::sources::severity_logger_mt<level>;
using console_sink = bl::sinks::synchronous_sink<bl::sinks::text_ostream_backend>;
using file_sink = bl::sinks::synchronous_sink<bl::sinks::text_file_backend>;

// Formats a record the way format_line() does.
void format_record(const bl::record_view& rec, bl::formatting_ostream& os) {
    const auto when = bl::extract<sys_clock::time_point>(timestamp_attribute, rec);
    const auto sev = bl::extract<level>(severity_attribute, rec);
    const auto msg = bl::extract<std::string>("Message", rec);
    const auto t = when ? *when : sys_clock::now();
    const auto l = sev ? *sev : level::info;
    const auto text = msg ? std::string_view(*msg) : std::string_view();
    if (!json_lines()) {
        os << format_line(t, l, text);
        return;
    }
    const auto fields = bl::extract<std::string>(fields_attribute, rec);
    os << format_json_line(t, l, text, fields ? std::string_view(*fields) : std::string_view());
}

// Test lines: "[level] message".
class capture_backend : public bl::sinks::basic_formatted_sink_backend<char, bl::sinks::synchronized_feeding> {
public:
    void consume(const bl::record_view& rec, const string_type& line) {
        std::lock_guard lock(mutex_);
        lines_.push_back(line);
        const auto from = bl::extract<origin>(origin_attribute, rec);
        if (!from) return;
        tags t;
        t.from = *from;
        if (const auto e = bl::extract<event>(event_attribute, rec)) t.type = *e;
        if (const auto v = bl::extract<std::vector<std::string>>(event_strings_attribute, rec)) t.strings = *v;
        tagged_.push_back(std::move(t));
    }
    std::vector<std::string> lines() const {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    std::vector<tags> tagged() const {
        std::lock_guard lock(mutex_);
        return tagged_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
    std::vector<tags> tagged_;
};
using capture_sink = bl::sinks::synchronous_sink<capture_backend>;

std::atomic<std::uint64_t> failed_records{0};
std::atomic<bool> json_format{false};

struct count_failure {
    using result_type = void;
    void operator()(const std::exception&) const { failed_records.fetch_add(1, std::memory_order_relaxed); }
    void operator()() const { failed_records.fetch_add(1, std::memory_order_relaxed); }  // anything else
};

struct state {
    logger_type logger;
    std::atomic<level> min{level::info};

    std::mutex sinks_mutex;  // guards the sink pointers below
    boost::shared_ptr<console_sink> console;
    boost::shared_ptr<file_sink> file;

    std::mutex folder_mutex;
    line_folder folder;

    state() {
        auto core = bl::core::get();
        core->add_global_attribute(timestamp_attribute, bl::attributes::make_function([] { return sys_clock::now(); }));
        // A sink that fails (disk full, a rotated file that cannot be opened, the Event Log)
        // costs its line, never the caller: no exception leaves a logging call, so none
        // can escape a session's handler half-way through closing it.
        core->set_exception_handler(bl::make_exception_handler<std::exception>(count_failure{}, std::nothrow));
        apply_filter();
    }

    void apply_filter() const {
        bl::core::get()->set_filter(expr::attr<level>(severity_attribute) >= min.load(std::memory_order_relaxed));
    }
};

state& st() {
    static state s;
    return s;
}

boost::shared_ptr<console_sink> make_console_sink() {
    auto backend = boost::make_shared<bl::sinks::text_ostream_backend>();
    backend->add_stream(boost::shared_ptr<std::ostream>(&std::cerr, boost::null_deleter()));
    backend->auto_flush(true);
    auto sink = boost::make_shared<console_sink>(backend);
    sink->set_formatter(&format_record);
    return sink;
}

// Checks up front that the file can be written (the backend opens it lazily), so a bad
// path fails configure() instead of losing lines later.
void check_writable(const std::filesystem::path& file) {
    std::error_code ec;
    const auto dir = file.parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error(str("log file folder ", dir.string(), " cannot be created: ", ec.message()));
    std::ofstream probe(file, std::ios::app);
    if (!probe) throw std::runtime_error(str("log file ", file.string(), " cannot be opened for writing"));
}

boost::shared_ptr<file_sink> make_file_sink(const config::log_config& cfg) {
    check_writable(cfg.file);
    const auto dir = cfg.file.parent_path().empty() ? std::filesystem::current_path() : cfg.file.parent_path();
    // Rotated files: "<stem>_YYYYmmdd_HHMMSS_<n><ext>" next to the active file.
    const auto rotated = dir / (cfg.file.stem().string() + "_%Y%m%d_%H%M%S_%3N" + cfg.file.extension().string());
    const std::uintmax_t rotation =
        static_cast<std::uintmax_t>(cfg.max_file_mb == 0 ? 1 : cfg.max_file_mb) * 1024u * 1024u;

    auto backend = boost::make_shared<bl::sinks::text_file_backend>(
        bl::keywords::file_name = cfg.file.string(), bl::keywords::target_file_name = rotated.filename().string(),
        bl::keywords::open_mode = std::ios_base::out | std::ios_base::app, bl::keywords::rotation_size = rotation,
        bl::keywords::enable_final_rotation = false);
    backend->auto_flush(true);
    backend->set_file_collector(bl::sinks::file::make_collector(
        bl::keywords::target = dir.string(), bl::keywords::max_files = cfg.keep_files == 0 ? 1u : cfg.keep_files));
    backend->scan_for_files(bl::sinks::file::scan_matching);

    auto sink = boost::make_shared<file_sink>(backend);
    sink->set_formatter(&format_record);
    return sink;
}

void write_two_digits(std::string& out, int v) {
    out += static_cast<char>('0' + (v / 10) % 10);
    out += static_cast<char>('0' + v % 10);
}

}  // namespace

bool parse_level(std::string_view text, level& out) {
    static constexpr level all[] = {level::trace, level::debug, level::info, level::warning, level::error};
    for (const auto l : all) {
        if (text == to_string(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

const char* to_string(level l) {
    switch (l) {
        case level::trace:
            return "trace";
        case level::debug:
            return "debug";
        case level::info:
            return "info";
        case level::warning:
            return "warning";
        case level::error:
            return "error";
    }
    return "unknown";
}

std::string format_line(sys_clock::time_point when, level l, std::string_view message) {
    const std::time_t t = sys_clock::to_time_t(when);
    std::tm tm{};
    core::local_time(t, tm);
    const auto ms =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000);
    std::string out;
    out.reserve(32 + message.size());
    const int year = tm.tm_year + 1900;
    out += std::to_string(year);
    out += '-';
    write_two_digits(out, tm.tm_mon + 1);
    out += '-';
    write_two_digits(out, tm.tm_mday);
    out += ' ';
    write_two_digits(out, tm.tm_hour);
    out += ':';
    write_two_digits(out, tm.tm_min);
    out += ':';
    write_two_digits(out, tm.tm_sec);
    out += '.';
    const int msv = ms < 0 ? ms + 1000 : ms;
    out += static_cast<char>('0' + msv / 100);
    write_two_digits(out, msv % 100);
    out += " [";
    out += to_string(l);
    out += "] ";
    out += message;
    return out;
}

void init_console(level min) {
    auto& s = st();
    set_level(min);
    std::lock_guard lock(s.sinks_mutex);
    if (!s.console) {
        s.console = make_console_sink();
        bl::core::get()->add_sink(s.console);
    }
}

void configure(const config::log_config& cfg, bool console) {
    auto& s = st();
    level min = level::info;
    if (!parse_level(cfg.level, min)) throw std::runtime_error("unknown log level \"" + cfg.level + "\"");

    // Build the new file sink before touching the old one: a bad path leaves logging as it was.
    boost::shared_ptr<file_sink> file;
    if (!cfg.file.empty()) file = make_file_sink(cfg);

    auto core = bl::core::get();
    {
        std::lock_guard lock(s.sinks_mutex);
        if (console && !s.console) {
            s.console = make_console_sink();
            core->add_sink(s.console);
        } else if (!console && s.console) {
            core->remove_sink(s.console);
            s.console->flush();
            s.console.reset();
        }
        if (s.file) {
            core->remove_sink(s.file);
            s.file->flush();
        }
        s.file = file;
        if (s.file) core->add_sink(s.file);
    }
    set_level(min);
    set_rate_limit(std::chrono::milliseconds(cfg.rate_limit_ms));
    json_format.store(cfg.format == "json", std::memory_order_relaxed);
}

bool json_lines() { return json_format.load(std::memory_order_relaxed); }

void shutdown() {
    auto& s = st();
    auto core = bl::core::get();
    core->flush();
    std::lock_guard lock(s.sinks_mutex);
    core->remove_all_sinks();
    s.console.reset();
    s.file.reset();
}

void set_level(level min) {
    auto& s = st();
    s.min.store(min, std::memory_order_relaxed);
    s.apply_filter();
}

level current_level() { return st().min.load(std::memory_order_relaxed); }

bool enabled(level l) { return l >= current_level(); }

std::string escape_controls(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 8);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c != 0x7f) {
            out += ch;
            continue;
        }
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
    return out;
}

namespace {

void push(level l, std::string_view message, const tags* t) {
    auto& s = st();
    if (!enabled(l)) return;
    // An event type is visible to sink filters (the Event Log takes info records only when
    // they have one): a thread attribute while the record is opened. The rest is attached after.
    const bool typed = t != nullptr && t->type != event::none;
    auto core = bl::core::get();
    const auto scoped =
        typed ? core->add_thread_attribute(event_attribute, bl::attributes::constant<event>(t->type)).first
              : bl::attribute_set::iterator();
    auto rec = s.logger.open_record(bl::keywords::severity = l);
    if (typed) core->remove_thread_attribute(scoped);
    if (!rec) return;
    if (t != nullptr) {
        auto& values = rec.attribute_values();
        if (typed) values.insert(event_strings_attribute, bl::attributes::make_attribute_value(t->strings));
        values.insert(origin_attribute, bl::attributes::make_attribute_value(t->from));
        if (!t->fields.empty()) values.insert(fields_attribute, bl::attributes::make_attribute_value(t->fields));
    }
    bl::record_ostream os(rec);
    // Every line is one line: control bytes that a peer slipped into a name (SNI, a
    // certificate, a PROXY field) or an error text are written as \xNN.
    const bool clean = std::none_of(message.begin(), message.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7f;
    });
    const std::string escaped = clean ? std::string() : escape_controls(message);
    if (!clean) message = escaped;
    os.write(message.data(), static_cast<std::streamsize>(message.size()));
    os.flush();
    s.logger.push_record(std::move(rec));
}

bool fold(level l, std::string_view key, std::string_view message, const tags* t) {
    auto& s = st();
    if (!enabled(l)) return false;
    line_folder::decision d;
    {
        std::lock_guard lock(s.folder_mutex);
        d = s.folder.check(key, line_folder::clock::now());
    }
    if (!d.write) return false;
    if (d.suppressed == 0)
        push(l, message, t);
    else
        push(l, str(message, " (", d.suppressed, " similar suppressed)"), t);
    return true;
}

level level_of(event e) {
    const auto* info = find(e);
    return info != nullptr ? info->severity : level::info;
}

}  // namespace

void write(level l, std::string_view message) { push(l, message, nullptr); }

void write(level l, std::string_view message, const tags& t) { push(l, message, &t); }

bool limited(level l, std::string_view key, std::string_view message) { return fold(l, key, message, nullptr); }

bool limited(level l, std::string_view key, std::string_view message, const tags& t) {
    return fold(l, key, message, &t);
}

void write_event(event e, std::initializer_list<event_arg> args, std::string_view message) {
    const auto l = level_of(e);
    if (!enabled(l)) return;
    const auto t = event_tags(e, args);
    push(l, message, &t);
}

bool limited_event(event e, std::string_view key, std::initializer_list<event_arg> args, std::string_view message) {
    const auto l = level_of(e);
    if (!enabled(l)) return false;
    const auto t = event_tags(e, args);
    return fold(l, key, message, &t);
}

std::uint64_t failed_lines() { return failed_records.load(std::memory_order_relaxed); }

void set_rate_limit(std::chrono::milliseconds window) {
    auto& s = st();
    std::lock_guard lock(s.folder_mutex);
    s.folder.set_window(window);
}

void add_sink(const boost::shared_ptr<bl::sinks::sink>& sink) {
    if (sink) bl::core::get()->add_sink(sink);
}

void remove_sink(const boost::shared_ptr<bl::sinks::sink>& sink) {
    if (sink) bl::core::get()->remove_sink(sink);
}

struct capture::impl {
    boost::shared_ptr<capture_sink> sink;
};

capture::capture() : impl_(new impl) {
    st();  // attributes and filter in place before the first record
    impl_->sink = boost::make_shared<capture_sink>();
    impl_->sink->set_formatter([](const bl::record_view& rec, bl::formatting_ostream& os) {
        const auto sev = bl::extract<level>(severity_attribute, rec);
        const auto msg = bl::extract<std::string>("Message", rec);
        os << "[" << to_string(sev ? *sev : level::info) << "] " << (msg ? *msg : std::string());
    });
    bl::core::get()->add_sink(impl_->sink);
}

capture::~capture() {
    bl::core::get()->remove_sink(impl_->sink);
    delete impl_;
}

std::vector<std::string> capture::lines() const { return impl_->sink->locked_backend()->lines(); }

std::vector<tags> capture::tagged() const { return impl_->sink->locked_backend()->tagged(); }

bool capture::contains(std::string_view needle) const { return count(needle) != 0; }

std::size_t capture::count(std::string_view needle) const {
    std::size_t n = 0;
    for (const auto& line : lines())
        if (line.find(needle) != std::string::npos) ++n;
    return n;
}

}  // namespace tlsbroker::log
