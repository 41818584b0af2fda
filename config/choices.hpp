// The config's closed sets of values: enums in the validated config, names in the JSON.
// Each enum has one table of names; the reader accepts exactly those names (listing them in
// its error), and to_string gives the name back for logs, /status and messages.
#pragma once

#include <array>
#include <string_view>
#include <utility>

namespace tlsbroker::config {

enum class verify_client_mode { none, optional, required };
enum class tls_min_version { v1_2, v1_3 };
enum class backend_policy { first, round_robin };
enum class proxy_header { none, v1, v2 };            // sent to the backend
enum class accept_proxy_mode { none, v1, v2, any };  // read from the balancer in front
enum class unrecoverable_action { exit, report };

template <class E>
struct choice_names;

template <>
struct choice_names<verify_client_mode> {
    static constexpr std::array<std::pair<verify_client_mode, std::string_view>, 3> table{
        {{verify_client_mode::none, "none"},
         {verify_client_mode::optional, "optional"},
         {verify_client_mode::required, "required"}}};
};
template <>
struct choice_names<tls_min_version> {
    static constexpr std::array<std::pair<tls_min_version, std::string_view>, 2> table{
        {{tls_min_version::v1_2, "1.2"}, {tls_min_version::v1_3, "1.3"}}};
};
template <>
struct choice_names<backend_policy> {
    static constexpr std::array<std::pair<backend_policy, std::string_view>, 2> table{
        {{backend_policy::first, "first"}, {backend_policy::round_robin, "round_robin"}}};
};
template <>
struct choice_names<proxy_header> {
    static constexpr std::array<std::pair<proxy_header, std::string_view>, 3> table{
        {{proxy_header::none, "none"}, {proxy_header::v1, "v1"}, {proxy_header::v2, "v2"}}};
};
template <>
struct choice_names<accept_proxy_mode> {
    static constexpr std::array<std::pair<accept_proxy_mode, std::string_view>, 4> table{
        {{accept_proxy_mode::none, "none"},
         {accept_proxy_mode::v1, "v1"},
         {accept_proxy_mode::v2, "v2"},
         {accept_proxy_mode::any, "any"}}};
};
template <>
struct choice_names<unrecoverable_action> {
    static constexpr std::array<std::pair<unrecoverable_action, std::string_view>, 2> table{
        {{unrecoverable_action::exit, "exit"}, {unrecoverable_action::report, "report"}}};
};

template <class E>
constexpr std::string_view to_string(E value) {
    for (const auto& [e, name] : choice_names<E>::table)
        if (e == value) return name;
    return "?";
}

// The value named `name`; false when no value has that name.
template <class E>
constexpr bool from_string(std::string_view name, E& out) {
    for (const auto& [e, n] : choice_names<E>::table)
        if (n == name) {
            out = e;
            return true;
        }
    return false;
}

}  // namespace tlsbroker::config
