#include "options.hpp"

#include <cctype>
#include <stdexcept>

namespace loadgen {

options::options(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    parse(args);
}

options::options(const std::vector<std::string>& args) { parse(args); }

void options::parse(const std::vector<std::string>& args) {
    std::size_t i = 0;
    if (!args.empty() && args[0].rfind("--", 0) != 0) mode_ = args[i++];
    for (; i < args.size(); ++i) {
        std::string a = args[i];
        if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument: " + a);
        a = a.substr(2);
        if (const auto eq = a.find('='); eq != std::string::npos) {
            values_[a.substr(0, eq)] = a.substr(eq + 1);
        } else if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
            values_[a] = args[++i];
        } else {
            values_[a] = "";
        }
    }
    if (const auto m = values_.find("mode"); m != values_.end()) {
        if (!mode_.empty() && mode_ != m->second)
            throw std::invalid_argument("two modes given: " + mode_ + " and " + m->second);
        mode_ = m->second;
        used_["mode"] = true;
    }
    if (mode_.empty() && values_.count("help")) mode_ = "help";
    if (mode_.empty()) throw std::invalid_argument("no mode given");
}

std::string options::str(const std::string& key, const std::string& def) const {
    used_[key] = true;
    const auto it = values_.find(key);
    return it == values_.end() ? def : it->second;
}

double options::num(const std::string& key, double def) const {
    const auto v = str(key, "");
    if (v.empty()) return def;
    std::size_t used = 0;
    double d = 0;
    try {
        d = std::stod(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != v.size()) throw std::invalid_argument("--" + key + ": not a number: " + v);
    if (d < 0) throw std::invalid_argument("--" + key + ": negative: " + v);
    return d;
}

long long options::integer(const std::string& key, long long def) const {
    return static_cast<long long>(num(key, static_cast<double>(def)));
}

std::uint64_t options::size(const std::string& key, std::uint64_t def) const {
    auto v = str(key, "");
    if (v.empty()) return def;
    std::uint64_t scale = 1;
    switch (std::tolower(static_cast<unsigned char>(v.back()))) {
        case 'k':
            scale = 1ULL << 10;
            break;
        case 'm':
            scale = 1ULL << 20;
            break;
        case 'g':
            scale = 1ULL << 30;
            break;
        default:
            break;
    }
    if (scale != 1) v.pop_back();
    std::size_t used = 0;
    std::uint64_t n = 0;
    try {
        n = std::stoull(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (v.empty() || used != v.size()) throw std::invalid_argument("--" + key + ": not a byte count: " + v);
    return n * scale;
}

bool options::flag(const std::string& key) const {
    used_[key] = true;
    return values_.count(key) != 0;
}

std::vector<std::string> options::unused() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : values_)
        if (!used_.count(k)) out.push_back(k);
    return out;
}

tcp::endpoint parse_endpoint(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("expected host:port, got " + text);
    auto host = text.substr(0, colon);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    boost::system::error_code ec;
    const auto addr = net::ip::make_address(host, ec);
    if (ec) throw std::invalid_argument("bad address: " + host);
    int port = -1;
    try {
        port = std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
    }
    if (port < 0 || port > 65535) throw std::invalid_argument("bad port in " + text);
    return {addr, static_cast<unsigned short>(port)};
}

}  // namespace loadgen
