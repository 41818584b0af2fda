// The platform half of a channel, chosen here and nowhere else: channel_posix (readiness:
// epoll through Asio's reactor) or channel_iocp (I/O completion port). Both offer the same
// members, which channel.hpp checks (channel_platform_half):
//   static std::size_t receive(socket, data, size, ec)   one non-blocking receive
//   io_result write(socket, last_error, data, size)      non-blocking: ok, want_write or error
//   bool flushed() const                                 every byte write() took is in the kernel
//   void begin_batch(); io_result end_batch(socket, last_error)
//   void set_owner(std::weak_ptr<void>)                  what a write in flight keeps alive
//   void wait(socket, want, handler)                     handler(ec) once worth trying again
// The socket and the channel's last error stay in the channel and are passed in, so that a
// half holds only what its platform needs (the POSIX half holds nothing).
#pragma once

#ifdef _WIN32
#include "core/session/channel_iocp.hpp"
namespace tlsbroker::core {
using channel_platform = channel_iocp;
}  // namespace tlsbroker::core
#else
#include "core/session/channel_posix.hpp"
namespace tlsbroker::core {
using channel_platform = channel_posix;
}  // namespace tlsbroker::core
#endif
