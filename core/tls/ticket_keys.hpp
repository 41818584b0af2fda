// Session ticket keys that rotate. OpenSSL's own ticket key is made once per SSL_CTX and
// never changes, so a key stolen from memory decrypts every ticket for as long as the
// process runs. Here a new key is made every `rotate_after` (one hour by default), the
// previous one is kept to decrypt tickets issued under it (the client then gets a fresh
// ticket), and older tickets fall back to a full handshake, as HAProxy and Go do. One store
// serves every TLS context of the process, so tickets survive a reload.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "core/tls/resumption_scope.hpp"

namespace tlsbroker::core {

class ticket_keys {
public:
    using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

    explicit ticket_keys(std::chrono::seconds rotate_after = std::chrono::hours(1), clock_fn clock = {});

    // The store of `scope`: the same one for as long as any TLS context holds it (a reload
    // that keeps the scope finds the running one), a new one after that.
    static std::shared_ptr<ticket_keys> for_scope(const resumption_scope& scope);
    // Stores alive now (tests).
    static std::size_t scopes_alive();

    // Makes `ctx` seal and open its tickets with these keys.
    void attach(SSL_CTX* ctx);

    // OpenSSL's ticket callback (SSL_CTX_set_tlsext_ticket_key_evp_cb). enc = 1: fill
    // name/iv and set up the contexts with the current key (returns 1). enc = 0: find the key
    // by name: 1 with the current key, 2 with the previous one (issue a new ticket), 0 when
    // unknown (full handshake).
    int on_ticket(unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH], EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                  int enc);

    std::uint64_t rotations() const;

private:
    struct key {
        std::array<unsigned char, 16> name{};
        std::array<unsigned char, 32> aes{};
        std::array<unsigned char, 32> hmac{};
    };
    static key make_key();
    void rotate_if_due();  // mutex_ held

    const std::chrono::seconds rotate_after_;
    const clock_fn clock_;
    mutable std::mutex mutex_;
    key current_;
    key previous_;
    bool has_previous_ = false;
    std::chrono::steady_clock::time_point made_;
    std::uint64_t rotations_ = 0;
};

}  // namespace tlsbroker::core
