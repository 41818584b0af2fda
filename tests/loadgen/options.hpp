// The load generator's command line: `MODE` or `--mode MODE`, then `--key value`,
// `--key=value` or `--flag`; typed getters with defaults; keys never read are reported.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <string>
#include <vector>

namespace loadgen {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class options {
public:
    // Throws std::invalid_argument on a malformed command line.
    options(int argc, char** argv);
    explicit options(const std::vector<std::string>& args);
    const std::string& mode() const { return mode_; }
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    std::string str(const std::string& key, const std::string& def) const;
    double num(const std::string& key, double def) const;
    long long integer(const std::string& key, long long def) const;
    // A byte count with an optional k/m/g suffix (powers of 1024): "64k", "10M".
    std::uint64_t size(const std::string& key, std::uint64_t def) const;
    bool flag(const std::string& key) const;
    // Keys given but never read: reported as a warning by main.
    std::vector<std::string> unused() const;

private:
    void parse(const std::vector<std::string>& args);
    std::string mode_;
    std::map<std::string, std::string> values_;
    mutable std::map<std::string, bool> used_;
};

// "host:port" → endpoint ("localhost" is 127.0.0.1); throws std::invalid_argument.
tcp::endpoint parse_endpoint(const std::string& text);

}  // namespace loadgen
