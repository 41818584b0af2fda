// The Event Log catalog: service/windows/messages.mc (what Event Viewer shows, what SCOM rules
// key on) and the enum log::event with its catalog (core/common/log_event.*) must agree on every
// ID, severity, category and insertion string; every call site names only insertion strings its
// event has; tagged records carry their tags to the sinks.
#include "core/common/log_event.hpp"

#include <gtest/gtest.h>

#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/make_shared.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/common/log.hpp"

using namespace tlsbroker;
namespace fs = std::filesystem;

namespace {

std::string read_source(const fs::path& path) {
    std::ifstream f(fs::path(TLSBROKER_SOURCE_DIR) / path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct mc_message {
    std::string severity;
    std::string symbol;
    std::vector<std::string> strings;  // from the ";// strings:" line above it
    std::string text;
};

// Messages by (severity, ID): a category and a generic event share an ID number.
std::map<std::pair<std::string, unsigned>, mc_message> parse_mc() {
    const auto mc = read_source("service/windows/messages.mc");
    const std::regex re(R"re((?:;// strings:([^\n]*)\n)?MessageId=(\d+)\nSeverity=(\w+)\n)re"
                        R"re(SymbolicName=(\w+)\nLanguage=English\n([\s\S]*?)\n\.\n)re");
    std::map<std::pair<std::string, unsigned>, mc_message> out;
    for (std::sregex_iterator it(mc.begin(), mc.end(), re), end; it != end; ++it) {
        mc_message m{(*it)[3], (*it)[4], {}, (*it)[5]};
        std::istringstream names((*it)[1].str());
        for (std::string n; names >> n;) m.strings.push_back(n);
        const auto key = std::make_pair(m.severity, static_cast<unsigned>(std::stoul((*it)[2])));
        EXPECT_TRUE(out.emplace(key, m).second) << "duplicate message " << key.first << " " << key.second;
    }
    return out;
}

const char* mc_severity(log::level l) {
    if (l >= log::level::error) return "Error";
    if (l == log::level::warning) return "Warning";
    return "Informational";
}

// The %N placeholders of a message text.
std::set<unsigned> placeholders(const std::string& text) {
    std::set<unsigned> out;
    const std::regex re(R"(%(\d+))");
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        out.insert(static_cast<unsigned>(std::stoul((*it)[1])));
    return out;
}

}  // namespace

TEST(log_event_catalog, every_block_of_messages_mc_is_parsed) {
    const auto mc = read_source("service/windows/messages.mc");
    ASSERT_FALSE(mc.empty());
    std::size_t blocks = 0;
    for (auto pos = mc.find("\nMessageId="); pos != std::string::npos; pos = mc.find("\nMessageId=", pos + 1)) ++blocks;
    EXPECT_EQ(parse_mc().size(), blocks);  // none with another shape slipped past the regex
}

TEST(log_event_catalog, messages_mc_and_the_enum_agree) {
    const auto mc = parse_mc();
    std::set<unsigned> ids;
    for (const auto& e : log::event_catalog()) {
        const auto id = static_cast<unsigned>(e.type);
        SCOPED_TRACE(e.name);
        EXPECT_TRUE(ids.insert(id).second) << "ID used twice";
        EXPECT_GE(id, 100u);  // 1..99: categories and the generic events
        EXPECT_EQ(log::find(e.type), &e);
        const auto it = mc.find({mc_severity(e.severity), id});
        ASSERT_NE(it, mc.end()) << "no " << mc_severity(e.severity) << " message " << id << " in messages.mc";
        const auto& m = it->second;
        std::string upper = e.name;
        for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        EXPECT_EQ(m.symbol, "TB_MSG_" + upper);
        EXPECT_EQ(m.strings, std::vector<std::string>(e.strings.begin(), e.strings.end()));
        std::set<unsigned> want;
        for (unsigned i = 1; i <= e.strings.size(); ++i) want.insert(i);
        EXPECT_EQ(placeholders(m.text), want) << m.text;  // each string shown, none beyond them
        EXPECT_GE(static_cast<unsigned>(e.cat), 1u);
        EXPECT_LE(static_cast<unsigned>(e.cat), log::category_count);
        EXPECT_NE(e.cat, log::category::general);  // that one is the generic events'
    }
    // Every event message of messages.mc is in the enum (the generic ones are 1, 2, 3).
    for (const auto& [key, m] : mc) {
        if (key.first == "Success" || key.second <= 3) continue;
        const auto* info = log::find(static_cast<log::event>(key.second));
        EXPECT_TRUE(info != nullptr && mc_severity(info->severity) == key.first)
            << m.symbol << " (" << key.first << " " << key.second << ") is not in log::event";
    }
}

TEST(log_event_catalog, categories_and_generic_events) {
    const auto mc = parse_mc();
    std::size_t categories = 0;
    for (const auto& [key, m] : mc) {
        if (key.first != "Success") continue;
        ++categories;
        EXPECT_GE(key.second, 1u);
        EXPECT_LE(key.second, log::category_count) << m.symbol;
        EXPECT_TRUE(placeholders(m.text).empty()) << m.symbol;
    }
    EXPECT_EQ(categories, log::category_count);
    // The installer registers the same count.
    EXPECT_NE(read_source("installer/tlsbroker.wxs")
                  .find("<RegistryValue Name=\"CategoryCount\" Type=\"integer\" Value=\"" +
                        std::to_string(log::category_count) + "\"/>"),
              std::string::npos);
    const std::pair<const char*, unsigned> generic[] = {{"Informational", log::generic_info_id},
                                                        {"Warning", log::generic_warning_id},
                                                        {"Error", log::generic_error_id}};
    for (const auto& [severity, id] : generic) {
        const auto it = mc.find({severity, id});
        ASSERT_NE(it, mc.end()) << severity;
        EXPECT_EQ(it->second.text, "%1");
    }
}

TEST(log_event_catalog, the_readme_table_lists_every_event) {
    const auto readme = read_source("service/README.md");
    for (const auto& e : log::event_catalog()) {
        std::string strings;
        for (std::size_t i = 0; i < e.strings.size(); ++i)
            strings += (i ? ", " : "") + std::string("%") + std::to_string(i + 1) + " " + std::string(e.strings[i]);
        const auto row = "| " + std::to_string(static_cast<unsigned>(e.type)) + " | `" + e.name + "` |";
        const auto at = readme.find(row);
        ASSERT_NE(at, std::string::npos) << row;
        const auto line = readme.substr(at, readme.find('\n', at) - at);
        EXPECT_NE(line.find("| " + strings + " |"), std::string::npos) << line;
    }
}

// Every write_event/limited_event call in core/ and service/ names only insertion strings of
// its event (a wrong name would be left out of the event at run time).
TEST(log_event_catalog, call_sites_name_strings_of_their_event) {
    const std::regex call(R"(_event\(\s*log::event::(\w+),)");
    const std::regex arg(R"re(\{"(\w+)",)re");
    std::size_t sites = 0;
    for (const auto* dir : {"core", "service"}) {
        for (const auto& f : fs::recursive_directory_iterator(fs::path(TLSBROKER_SOURCE_DIR) / dir)) {
            if (f.path().extension() != ".cpp") continue;
            const auto text = read_source(fs::relative(f.path(), TLSBROKER_SOURCE_DIR));
            for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
                const auto name = (*it)[1].str();
                const log::event_info* info = nullptr;
                for (const auto& e : log::event_catalog())
                    if (name == e.name) info = &e;
                ASSERT_NE(info, nullptr) << f.path() << ": log::event::" << name;
                ++sites;
                // The arguments: from the event to the end of its initializer list.
                const auto from = static_cast<std::size_t>(it->position() + it->length());
                const auto args = text.substr(from, text.find("}}", from) + 2 - from);
                std::set<std::string> given;
                for (std::sregex_iterator a(args.begin(), args.end(), arg), aend; a != aend; ++a) {
                    const auto n = (*a)[1].str();
                    given.insert(n);
                    EXPECT_NE(std::find(info->strings.begin(), info->strings.end(), n), info->strings.end())
                        << f.path() << ": " << name << " has no insertion string " << n;
                }
                EXPECT_EQ(given.size(), info->strings.size()) << f.path() << ": " << name << " misses a string";
            }
        }
    }
    EXPECT_GE(sites, 15u);
}

TEST(log_event_tags, strings_in_catalog_order_and_missing_ones_dashed) {
    const auto t = log::event_tags(log::event::backend_down, {{"backend", "10.0.0.5:3000"}, {"listener", "site"}});
    EXPECT_EQ(t.type, log::event::backend_down);
    EXPECT_EQ(t.from, log::origin::broker);
    EXPECT_EQ(t.strings, (std::vector<std::string>{"site", "10.0.0.5:3000", "-", "-"}));
}

TEST(log_event_tags, records_carry_event_level_and_origin) {
    log::capture cap;
    log::write_event(log::event::listener_bound, {{"listener", "site"}, {"address", "127.0.0.1:8443"}},
                     "listener 'site' accepting on 127.0.0.1:8443");
    log::write(log::level::warning, "a handshake failed", log::client());
    log::write(log::level::warning, "plain warning");
    log::limited_event(log::event::backend_up, "event-test-key", {{"listener", "l"}, {"backend", "b:1"}},
                       "backend b:1 up");
    const auto lines = cap.lines();
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "[info] listener 'site' accepting on 127.0.0.1:8443");  // the catalog's level
    EXPECT_EQ(lines[3], "[warning] backend b:1 up");
    const auto tagged = cap.tagged();
    ASSERT_EQ(tagged.size(), 3u);  // the plain warning has no tags
    EXPECT_EQ(tagged[0].type, log::event::listener_bound);
    EXPECT_EQ(tagged[0].strings, (std::vector<std::string>{"site", "127.0.0.1:8443"}));
    EXPECT_EQ(tagged[1].type, log::event::none);
    EXPECT_EQ(tagged[1].from, log::origin::client);
    EXPECT_EQ(tagged[2].type, log::event::backend_up);
}

// The Event Log sink filters on the event type (it takes info records only when they have one):
// the type must be visible to a sink filter, not only to the backend.
TEST(log_event_tags, a_sink_filter_sees_the_event_type) {
    namespace bl = boost::log;
    auto out = boost::make_shared<std::ostringstream>();
    auto backend = boost::make_shared<bl::sinks::text_ostream_backend>();
    backend->add_stream(out);
    auto sink = boost::make_shared<bl::sinks::synchronous_sink<bl::sinks::text_ostream_backend>>(backend);
    sink->set_formatter(bl::expressions::stream << bl::expressions::smessage);
    sink->set_filter(bl::expressions::has_attr<log::event>(log::event_attribute));
    log::add_sink(sink);
    log::write(log::level::info, "untyped");
    log::write_event(log::event::service_stopped, {{"exit_code", "0"}}, "typed");
    log::write(log::level::warning, "per-client", log::client());
    log::remove_sink(sink);
    sink->flush();
    EXPECT_EQ(out->str(), "typed\n");
}
