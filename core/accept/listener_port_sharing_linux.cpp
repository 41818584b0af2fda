// Port sharing on Linux: SO_REUSEPORT and a classic BPF program on the port's group.
#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>

#include "core/accept/listener_port_sharing.hpp"

namespace tlsbroker::core {

namespace {
bool fail(boost::system::error_code& ec) {
    ec.assign(errno, boost::system::system_category());
    return false;
}
}  // namespace

bool set_port_sharing(boost::asio::ip::tcp::acceptor& a, bool on, boost::system::error_code& ec) {
    ec.clear();
    const int v = on ? 1 : 0;
    if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &v, sizeof v) != 0) return fail(ec);
    return true;
}

bool steer_to_newest(boost::asio::ip::tcp::acceptor& newest, boost::system::error_code& ec) {
    ec.clear();
    // The program returns an index into the port's group. The old socket is at 0 and its
    // replacement, which joined last, at 1. Once the old socket has closed, index 1 is out of
    // range and the kernel falls back to its hash over the one socket left.
    sock_filter to_second{BPF_RET | BPF_K, 0, 0, 1};
    sock_fprog prog{1, &to_second};
    if (::setsockopt(newest.native_handle(), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
        return fail(ec);
    return true;
}

}  // namespace tlsbroker::core
