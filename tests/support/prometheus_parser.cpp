#include "support/prometheus_parser.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>

namespace tlsbroker::test {

namespace {

bool name_start(char c, bool colon) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool name_char(char c, bool colon) { return name_start(c, colon) || (c >= '0' && c <= '9'); }

// Reads a metric (colon allowed) or label name at `pos`; empty on failure.
std::string read_name(const std::string& s, std::size_t& pos, bool colon) {
    const auto start = pos;
    if (pos >= s.size() || !name_start(s[pos], colon)) return {};
    while (pos < s.size() && name_char(s[pos], colon)) ++pos;
    return s.substr(start, pos - start);
}

bool parse_value(const std::string& text, double& out) {
    if (text == "+Inf" || text == "Inf") return out = std::numeric_limits<double>::infinity(), true;
    if (text == "-Inf") return out = -std::numeric_limits<double>::infinity(), true;
    if (text == "NaN") return out = std::numeric_limits<double>::quiet_NaN(), true;
    if (text.empty()) return false;
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && std::isfinite(out);
}

// The family a sample belongs to: its name, or for a histogram's series the name without
// _bucket, _sum or _count when that family was declared a histogram.
std::string family_of(const std::string& name, const std::map<std::string, prom_family>& families) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s = suffix;
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
            const auto base = name.substr(0, name.size() - s.size());
            if (const auto it = families.find(base); it != families.end() && it->second.type == "histogram")
                return base;
        }
    }
    return name;
}

std::string series_key(const prom_sample& s) {
    std::string k = s.name + "{";
    for (const auto& [n, v] : s.labels) k += n + "=" + v + ",";
    return k + "}";
}

void check_histogram(const std::string& name, const prom_family& f, std::vector<std::string>& errors) {
    struct series {
        std::vector<std::pair<double, double>> buckets;  // le, cumulative count, in order
        bool has_sum = false;
        bool has_count = false;
        double count = 0;
    };
    std::map<std::map<std::string, std::string>, series> by_labels;
    for (const auto& s : f.samples) {
        auto labels = s.labels;
        if (s.name == name + "_bucket") {
            const auto le = labels.find("le");
            if (le == labels.end()) {
                errors.push_back(name + ": a bucket without le");
                continue;
            }
            double bound = 0;
            if (!parse_value(le->second, bound)) errors.push_back(name + ": bad le \"" + le->second + "\"");
            labels.erase(le);
            by_labels[labels].buckets.emplace_back(bound, s.value);
        } else if (s.name == name + "_sum") {
            by_labels[labels].has_sum = true;
        } else if (s.name == name + "_count") {
            by_labels[labels].has_count = true;
            by_labels[labels].count = s.value;
        } else {
            errors.push_back(name + ": sample " + s.name + " in a histogram family");
        }
    }
    for (const auto& [labels, s] : by_labels) {
        const auto where = name + series_key({"", labels, 0});
        if (s.buckets.empty() || !std::isinf(s.buckets.back().first))
            errors.push_back(where + ": buckets do not end at le=\"+Inf\"");
        for (std::size_t i = 1; i < s.buckets.size(); ++i) {
            if (!(s.buckets[i].first > s.buckets[i - 1].first)) errors.push_back(where + ": le not ascending");
            if (s.buckets[i].second < s.buckets[i - 1].second) errors.push_back(where + ": bucket counts fall");
        }
        if (!s.has_sum) errors.push_back(where + ": no _sum");
        if (!s.has_count) errors.push_back(where + ": no _count");
        if (!s.buckets.empty() && s.has_count && s.count != s.buckets.back().second)
            errors.push_back(where + ": _count is not the +Inf bucket");
    }
}

}  // namespace

double prom_document::value(const std::string& name, const std::map<std::string, std::string>& labels) const {
    double found = std::numeric_limits<double>::quiet_NaN();
    int hits = 0;
    for (const auto& [fname, f] : families)
        for (const auto& s : f.samples) {
            if (s.name != name) continue;
            bool match = true;
            for (const auto& [k, v] : labels) {
                const auto it = s.labels.find(k);
                match = match && it != s.labels.end() && it->second == v;
            }
            if (match) found = s.value, ++hits;
        }
    return hits == 1 ? found : std::numeric_limits<double>::quiet_NaN();
}

prom_document parse_prometheus(const std::string& text) {
    prom_document doc;
    auto& errors = doc.errors;
    if (!text.empty() && text.back() != '\n') errors.push_back("the text does not end with a line feed");
    std::istringstream in(text);
    std::string line;
    std::size_t no = 0;
    std::set<std::string> typed;   // families with a # TYPE
    std::set<std::string> helped;  // families with a # HELP
    std::set<std::string> closed;  // families whose samples ended (another family began)
    std::set<std::string> series;  // every series seen
    std::string current;           // the family of the last sample
    while (std::getline(in, line)) {
        ++no;
        const auto at = "line " + std::to_string(no) + ": ";
        if (line.empty()) {
            errors.push_back(at + "empty line");
            continue;
        }
        if (line[0] == '#') {
            std::istringstream words(line.substr(1));
            std::string kind, name;
            words >> kind >> name;
            if (kind != "HELP" && kind != "TYPE") continue;  // a plain comment
            std::size_t p = 0;
            if (read_name(name, p, true) != name || name.empty()) {
                errors.push_back(at + "bad metric name in # " + kind);
                continue;
            }
            if (kind == "TYPE") {
                std::string type, extra;
                words >> type;
                if (words >> extra) errors.push_back(at + "text after the type");
                if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
                    type != "untyped")
                    errors.push_back(at + "unknown type " + type);
                if (!typed.insert(name).second) errors.push_back(at + "second # TYPE for " + name);
                if (doc.families.contains(name) && !doc.families[name].samples.empty())
                    errors.push_back(at + "# TYPE after samples of " + name);
                doc.families[name].type = type;
            } else {
                if (!helped.insert(name).second) errors.push_back(at + "second # HELP for " + name);
                const auto start = line.find(name) + name.size();
                auto help = start < line.size() ? line.substr(start + 1) : std::string();
                for (std::size_t i = 0; i < help.size(); ++i)
                    if (help[i] == '\\' && (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n')))
                        errors.push_back(at + "bad escape in # HELP");
                    else if (help[i] == '\\')
                        ++i;
                doc.families[name].help = help;
            }
            continue;
        }
        prom_sample s;
        std::size_t p = 0;
        s.name = read_name(line, p, true);
        if (s.name.empty()) {
            errors.push_back(at + "bad metric name");
            continue;
        }
        bool bad = false;
        if (p < line.size() && line[p] == '{') {
            ++p;
            while (!bad && p < line.size() && line[p] != '}') {
                const auto lname = read_name(line, p, false);
                if (lname.empty() || p >= line.size() || line[p] != '=' || p + 1 >= line.size() || line[p + 1] != '"') {
                    bad = true;
                    break;
                }
                p += 2;
                std::string value;
                while (p < line.size() && line[p] != '"') {
                    if (line[p] == '\\') {
                        if (p + 1 >= line.size()) break;
                        const char e = line[p + 1];
                        if (e == '\\' || e == '"')
                            value += e;
                        else if (e == 'n')
                            value += '\n';
                        else
                            bad = true;
                        p += 2;
                    } else {
                        value += line[p++];
                    }
                }
                if (p >= line.size()) {
                    bad = true;
                    break;
                }
                ++p;  // closing quote
                if (!s.labels.emplace(lname, value).second) errors.push_back(at + "label " + lname + " twice");
                if (p < line.size() && line[p] == ',') ++p;
            }
            if (p >= line.size()) bad = true;
            ++p;  // '}'
        }
        if (bad || p >= line.size() || line[p] != ' ') {
            errors.push_back(at + "malformed sample: " + line);
            continue;
        }
        const auto rest = line.substr(p + 1);
        const auto space = rest.find(' ');
        if (!parse_value(rest.substr(0, space), s.value)) errors.push_back(at + "bad value: " + line);
        if (space != std::string::npos) {
            double stamp = 0;
            if (!parse_value(rest.substr(space + 1), stamp)) errors.push_back(at + "bad timestamp: " + line);
        }
        const auto family = family_of(s.name, doc.families);
        if (!typed.contains(family)) errors.push_back(at + "sample before # TYPE of " + family);
        if (family != current) {
            if (closed.contains(family)) errors.push_back(at + "samples of " + family + " are not together");
            if (!current.empty()) closed.insert(current);
            current = family;
        }
        if (!series.insert(series_key(s)).second) errors.push_back(at + "repeated series " + series_key(s));
        auto& f = doc.families[family];
        if (f.type == "counter" && s.value < 0) errors.push_back(at + "negative counter");
        f.samples.push_back(std::move(s));
    }
    for (const auto& [name, f] : doc.families)
        if (f.type == "histogram") check_histogram(name, f, errors);
    return doc;
}

}  // namespace tlsbroker::test
