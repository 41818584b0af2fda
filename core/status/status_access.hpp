// Who may do what on the status endpoint besides what status_guard refuses: a bearer token
// for reads and another for POST /reload, the names allowed in Host, and how long an idle
// connection is kept. Made from the status section of the config; a reload replaces it.
// /healthz and the page (GET /, static HTML with no data in it) never need a token, so load
// balancers can probe without one.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tlsbroker::core {

// A token kept as its SHA-256 digest. matches() hashes what was presented and compares the
// two digests in constant time, so the time taken says nothing about how much of a guess
// was right, nor how long the token is.
class bearer_token {
public:
    explicit bearer_token(std::string_view token);
    // `authorization`: the Authorization header's value ("Bearer <token>"), or nullopt.
    bool matches(std::optional<std::string_view> authorization) const;

private:
    std::array<unsigned char, 32> digest_{};
};

struct status_access {
    std::vector<std::string> allowed_hosts;    // lower case; "name" or "name:port"
    std::optional<bearer_token> read_token;    // absent: reads are open
    std::optional<bearer_token> reload_token;  // absent: POST /reload is refused (403)
    std::chrono::milliseconds idle_timeout{5000};

    static status_access from(const config::status_config& c);
};

}  // namespace tlsbroker::core
