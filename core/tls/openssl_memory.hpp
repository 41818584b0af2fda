// OpenSSL's large blocks (its record buffers) from a small cache of fixed size classes.
//
// With SSL_MODE_RELEASE_BUFFERS (an idle connection holds no record buffer) OpenSSL allocates
// and frees a read buffer (about 64 KiB here) and a write buffer (about 17 KiB) around every
// read and write. Wine's heap keeps every free block above 4 KiB in one list that each such
// allocation walks from the start: under the site load that walk was the Windows build's
// hottest function (11% of its samples). The same load without RELEASE_BUFFERS relayed 5%
// more exchanges with the connect p99 at 309 ms instead of 759 ms, so the churn, not the
// relay, was the cost. This cache takes blocks of 16 KiB to 128 KiB (the record buffers),
// rounded up to a multiple of 4 KiB, and keeps up to `kept_per_class` freed blocks of each
// size for the next request; everything else goes straight to malloc. (From 4 KiB up it cost
// 10 KB more RSS per idle connection: an idle connection holds blocks below 16 KiB, and
// rounding them up costs more than the walk.) The service installs it on Windows only: on
// Linux, glibc's allocator has no such walk, and the cache measured 0.95x on handshakes.
#pragma once

#include <cstddef>

namespace tlsbroker::core {

class openssl_buffer_cache {
public:
    static constexpr std::size_t min_bytes = std::size_t{16} * 1024;   // smaller requests: malloc
    static constexpr std::size_t max_bytes = std::size_t{128} * 1024;  // larger requests: malloc
    static constexpr std::size_t class_bytes = 4096;                   // the size classes' step
    static constexpr std::size_t kept_per_class = 16;                  // freed blocks kept for reuse, per class

    static openssl_buffer_cache& global();

    void* allocate(std::size_t bytes);
    void release(void* p);
    void* reallocate(void* p, std::size_t bytes);

    // Blocks handed out or kept, and of those kept for reuse (for the tests).
    std::size_t blocks() const;
    std::size_t kept() const;

    // Size class of a request (class c holds (c + 1) * class_bytes; the first in use is
    // min_bytes / class_bytes - 1), or npos outside [min_bytes, max_bytes].
    static std::size_t class_of(std::size_t bytes);
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    openssl_buffer_cache();
    ~openssl_buffer_cache();
    openssl_buffer_cache(const openssl_buffer_cache&) = delete;
    openssl_buffer_cache& operator=(const openssl_buffer_cache&) = delete;

private:
    struct state;
    state* s_;
};

// Makes OpenSSL allocate through openssl_buffer_cache::global(). Must run before anything
// else calls OpenSSL (OpenSSL refuses once it has allocated); returns false when it was too late.
bool install_openssl_buffer_cache();

}  // namespace tlsbroker::core
