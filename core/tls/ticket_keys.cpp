#include "core/tls/ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

namespace tlsbroker::core {

namespace {

int ex_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

const EVP_CIPHER* aes_256_cbc() {
    static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
    return cipher;
}

int callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
    auto* keys = static_cast<ticket_keys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index()));
    return keys == nullptr ? 0 : keys->on_ticket(name, iv, cipher, mac, enc);
}

bool set_hmac_key(EVP_MAC_CTX* mac, const std::array<unsigned char, 32>& k) {
    char digest[] = "sha256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k.data()), k.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

ticket_keys::ticket_keys(std::chrono::seconds rotate_after, clock_fn clock)
    : rotate_after_(rotate_after),
      clock_(clock ? std::move(clock) : clock_fn([] { return std::chrono::steady_clock::now(); })),
      current_(make_key()),
      made_(clock_()) {}

namespace {

struct scope_registry {
    std::mutex mutex;
    std::map<resumption_scope, std::weak_ptr<ticket_keys>> stores;
};

scope_registry& registry() {
    static scope_registry r;
    return r;
}

}  // namespace

std::shared_ptr<ticket_keys> ticket_keys::for_scope(const resumption_scope& scope) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    std::erase_if(r.stores, [](const auto& e) { return e.second.expired(); });
    auto& slot = r.stores[scope];
    auto keys = slot.lock();
    if (!keys) {
        keys = std::make_shared<ticket_keys>();
        slot = keys;
    }
    return keys;
}

std::size_t ticket_keys::scopes_alive() {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    return static_cast<std::size_t>(
        std::count_if(r.stores.begin(), r.stores.end(), [](const auto& e) { return !e.second.expired(); }));
}

ticket_keys::key ticket_keys::make_key() {
    key k;
    if (RAND_bytes(k.name.data(), k.name.size()) != 1 || RAND_bytes(k.aes.data(), k.aes.size()) != 1 ||
        RAND_bytes(k.hmac.data(), k.hmac.size()) != 1)
        throw std::runtime_error("no random bytes for a session ticket key");
    return k;
}

void ticket_keys::attach(SSL_CTX* ctx) {
    SSL_CTX_set_ex_data(ctx, ex_index(), this);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, callback);
}

void ticket_keys::rotate_if_due() {
    if (clock_() - made_ < rotate_after_) return;
    key fresh;
    try {
        fresh = make_key();
    } catch (const std::exception&) {
        return;  // keep the current key a little longer
    }
    previous_ = current_;
    has_previous_ = true;
    current_ = fresh;
    made_ = clock_();
    ++rotations_;
}

int ticket_keys::on_ticket(unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH], EVP_CIPHER_CTX* cipher,
                           EVP_MAC_CTX* mac, int enc) {
    std::lock_guard lock(mutex_);
    rotate_if_due();
    if (enc == 1) {
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes_256_cbc())) != 1) return -1;
        std::memcpy(name, current_.name.data(), current_.name.size());
        if (EVP_EncryptInit_ex(cipher, aes_256_cbc(), nullptr, current_.aes.data(), iv) != 1) return -1;
        return set_hmac_key(mac, current_.hmac) ? 1 : -1;
    }
    const key* k = nullptr;
    int result = 1;
    if (std::memcmp(name, current_.name.data(), current_.name.size()) == 0) {
        k = &current_;
    } else if (has_previous_ && std::memcmp(name, previous_.name.data(), previous_.name.size()) == 0) {
        k = &previous_;
        result = 2;  // still good, but the client should get a ticket under the current key
    }
    if (k == nullptr) return 0;  // unknown or too old: a full handshake
    if (!set_hmac_key(mac, k->hmac)) return -1;
    if (EVP_DecryptInit_ex(cipher, aes_256_cbc(), nullptr, k->aes.data(), iv) != 1) return -1;
    return result;
}

std::uint64_t ticket_keys::rotations() const {
    std::lock_guard lock(mutex_);
    return rotations_;
}

}  // namespace tlsbroker::core
