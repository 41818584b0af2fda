#include "core/accept/accept_error.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <cerrno>

using namespace tlsbroker::core;

namespace {

void expect(int code, os_family f, accept_error_class cls, accept_action act) {
    const auto d = classify_accept_error(code, f, false);
    EXPECT_EQ(d.error_class, cls) << "code " << code;
    EXPECT_EQ(d.action, act) << "code " << code;
}

}  // namespace

TEST(accept_error, posix_connection_errors_retry_at_once) {
    for (int e : {ECONNABORTED, ECONNRESET, ENOTCONN, EPROTO, EPERM, EINTR, EAGAIN, ETIMEDOUT, ENETUNREACH})
        expect(e, os_family::posix, accept_error_class::connection, accept_action::retry_now);
}

TEST(accept_error, posix_resource_errors_back_off) {
    for (int e : {EMFILE, ENFILE, ENOBUFS, ENOMEM})
        expect(e, os_family::posix, accept_error_class::resource, accept_action::back_off);
}

TEST(accept_error, posix_broken_listener_is_recreated) {
    for (int e : {EBADF, ENOTSOCK, EINVAL})
        expect(e, os_family::posix, accept_error_class::listener, accept_action::recreate_listener);
}

TEST(accept_error, windows_codes_beside_posix) {
    expect(10054, os_family::windows, accept_error_class::connection, accept_action::retry_now);  // WSAECONNRESET
    expect(10057, os_family::windows, accept_error_class::connection, accept_action::retry_now);  // WSAENOTCONN
    expect(10053, os_family::windows, accept_error_class::connection, accept_action::retry_now);  // WSAECONNABORTED
    expect(64, os_family::windows, accept_error_class::connection, accept_action::retry_now);     // NETNAME_DELETED
    expect(59, os_family::windows, accept_error_class::connection, accept_action::retry_now);  // UNEXP_NET_ERR (Wine)
    expect(10024, os_family::windows, accept_error_class::resource, accept_action::back_off);  // WSAEMFILE
    expect(10055, os_family::windows, accept_error_class::resource, accept_action::back_off);  // WSAENOBUFS
    expect(10038, os_family::windows, accept_error_class::listener, accept_action::recreate_listener);  // WSAENOTSOCK
    expect(10022, os_family::windows, accept_error_class::listener, accept_action::recreate_listener);  // WSAEINVAL
}

TEST(accept_error, unknown_errors_back_off_never_stop) {
    expect(123456, os_family::posix, accept_error_class::unknown, accept_action::back_off);
    expect(123456, os_family::windows, accept_error_class::unknown, accept_action::back_off);
}

TEST(accept_error, cancellation_rearms_unless_shutting_down) {
    expect(ECANCELED, os_family::posix, accept_error_class::cancelled, accept_action::retry_now);
    expect(995, os_family::windows, accept_error_class::cancelled, accept_action::retry_now);
    // Asio's operation_aborted: ECANCELED on POSIX, ERROR_OPERATION_ABORTED (995) on Windows.
    const auto d = classify_accept_error(boost::asio::error::operation_aborted, false);
    EXPECT_EQ(d.error_class, accept_error_class::cancelled);
}

TEST(accept_error, shutdown_stops_whatever_the_error) {
    for (int e : {ECONNRESET, EMFILE, EBADF, ECANCELED, 99999})
        EXPECT_EQ(classify_accept_error(e, os_family::posix, true).action, accept_action::stop);
}

TEST(accept_error, asio_error_code_uses_native_family) {
    const auto d = classify_accept_error(boost::system::error_code(EMFILE, boost::system::system_category()), false);
    EXPECT_EQ(d.action, accept_action::back_off);
}
