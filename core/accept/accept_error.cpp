#include "core/accept/accept_error.hpp"

#include <algorithm>
#include <cerrno>
#include <initializer_list>

#include "core/common/platform.hpp"

namespace tlsbroker::core {

namespace {

bool in(int code, std::initializer_list<int> set) { return std::find(set.begin(), set.end(), code) != set.end(); }

// Winsock and Win32 values, written out so they are testable on POSIX too.
namespace win {
constexpr int error_not_enough_memory = 8;
constexpr int error_outofmemory = 14;
constexpr int error_unexp_net_err = 59;  // Wine: a reset before the accept completed
constexpr int error_netname_deleted = 64;
constexpr int error_operation_aborted = 995;
constexpr int error_connection_aborted = 1236;
constexpr int error_no_system_resources = 1450;
constexpr int wsaeintr = 10004;
constexpr int wsaebadf = 10009;
constexpr int wsaeacces = 10013;
constexpr int wsaefault = 10014;
constexpr int wsaeinval = 10022;
constexpr int wsaemfile = 10024;
constexpr int wsaewouldblock = 10035;
constexpr int wsaenotsock = 10038;
constexpr int wsaeopnotsupp = 10045;
constexpr int wsaenetdown = 10050;
constexpr int wsaenetreset = 10052;
constexpr int wsaeconnaborted = 10053;
constexpr int wsaeconnreset = 10054;
constexpr int wsaenobufs = 10055;
constexpr int wsaenotconn = 10057;
constexpr int wsaetimedout = 10060;
constexpr int wsaehostunreach = 10065;
constexpr int wsanotinitialised = 10093;
}  // namespace win

accept_error_class classify_posix(int e) {
    if (in(e, {ECANCELED})) return accept_error_class::cancelled;
    // accept(2): these belong to the connection being accepted (or are transient).
    if (in(e, {ECONNABORTED, ECONNRESET, ENOTCONN, EPROTO, EPERM, EINTR, EAGAIN, EWOULDBLOCK, ETIMEDOUT, EHOSTUNREACH,
               ENETUNREACH, ENETDOWN, ENOPROTOOPT,
#ifdef EHOSTDOWN
               EHOSTDOWN,
#endif
#ifdef ENONET
               ENONET,
#endif
               EOPNOTSUPP}))
        return accept_error_class::connection;
    if (in(e, {EMFILE, ENFILE, ENOBUFS, ENOMEM})) return accept_error_class::resource;
    if (in(e, {EBADF, ENOTSOCK, EINVAL, EFAULT})) return accept_error_class::listener;
    return accept_error_class::unknown;
}

accept_error_class classify_windows(int e) {
    using namespace win;
    if (in(e, {error_operation_aborted})) return accept_error_class::cancelled;
    if (in(e, {wsaeconnreset, wsaenotconn, wsaeconnaborted, wsaeintr, wsaewouldblock, wsaetimedout, wsaenetdown,
               wsaenetreset, wsaehostunreach, error_netname_deleted, error_connection_aborted, error_unexp_net_err,
               wsaeacces}))
        return accept_error_class::connection;
    if (in(e, {wsaemfile, wsaenobufs, error_not_enough_memory, error_outofmemory, error_no_system_resources}))
        return accept_error_class::resource;
    if (in(e, {wsaebadf, wsaenotsock, wsaeinval, wsaefault, wsaeopnotsupp, wsanotinitialised}))
        return accept_error_class::listener;
    return accept_error_class::unknown;
}

}  // namespace

accept_decision classify_accept_error(int code, os_family family, bool shutting_down) {
    const auto cls = family == os_family::posix ? classify_posix(code) : classify_windows(code);
    if (shutting_down) return {cls, accept_action::stop};
    switch (cls) {
        case accept_error_class::connection:
        case accept_error_class::cancelled:  // a watchdog re-arm cancels on purpose
            return {cls, accept_action::retry_now};
        case accept_error_class::resource:
        case accept_error_class::unknown:
            return {cls, accept_action::back_off};
        case accept_error_class::listener:
            return {cls, accept_action::recreate_listener};
    }
    return {cls, accept_action::back_off};
}

accept_decision classify_accept_error(const boost::system::error_code& ec, bool shutting_down) {
    constexpr auto family = on_windows ? os_family::windows : os_family::posix;
    if (ec == boost::system::errc::operation_canceled)
        return classify_accept_error(ECANCELED, os_family::posix, shutting_down);
    return classify_accept_error(ec.value(), family, shutting_down);
}

const char* to_string(accept_error_class c) {
    switch (c) {
        case accept_error_class::connection:
            return "connection";
        case accept_error_class::resource:
            return "resource";
        case accept_error_class::listener:
            return "listener";
        case accept_error_class::cancelled:
            return "cancelled";
        case accept_error_class::unknown:
            return "unknown";
    }
    return "unknown";
}

}  // namespace tlsbroker::core
