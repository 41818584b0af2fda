// A port on 127.0.0.1 that behaves like a host that is down: SYNs go unanswered, so a
// connect there hangs until its caller gives up. It is a listening socket whose accept
// queue is full and never drained (Linux drops a SYN when the accept queue is full).
#pragma once

#include <cstdint>
#include <vector>

namespace tlsbroker::test {

class blackhole {
public:
    blackhole();  // throws std::runtime_error when the queue cannot be filled
    ~blackhole();
    blackhole(const blackhole&) = delete;
    blackhole& operator=(const blackhole&) = delete;

    std::uint16_t port() const { return port_; }

private:
    int listener_ = -1;
    std::vector<int> fillers_;  // connections that fill the accept queue
    std::uint16_t port_ = 0;
};

}  // namespace tlsbroker::test
