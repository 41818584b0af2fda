#include "core/tls/openssl_memory.hpp"

#include <openssl/crypto.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace tlsbroker::core {

namespace {
constexpr std::size_t class_count = openssl_buffer_cache::max_bytes / openssl_buffer_cache::class_bytes;
constexpr std::size_t class_size(std::size_t c) { return (c + 1) * openssl_buffer_cache::class_bytes; }
}  // namespace

struct openssl_buffer_cache::state {
    mutable std::mutex m;
    std::unordered_map<void*, std::size_t> classes;  // every block of the cache: its class
    std::array<std::vector<void*>, class_count> kept;
    std::size_t kept_total = 0;
};

openssl_buffer_cache::openssl_buffer_cache() : s_(new state) {}

openssl_buffer_cache::~openssl_buffer_cache() {
    for (auto& [p, c] : s_->classes) std::free(p);
    delete s_;
}

openssl_buffer_cache& openssl_buffer_cache::global() {
    // Never destroyed: OpenSSL frees blocks from its own exit handlers.
    static auto* cache = new openssl_buffer_cache;
    return *cache;
}

std::size_t openssl_buffer_cache::class_of(std::size_t bytes) {
    if (bytes < min_bytes || bytes > max_bytes) return npos;
    return (bytes + class_bytes - 1) / class_bytes - 1;
}

void* openssl_buffer_cache::allocate(std::size_t bytes) {
    const auto c = class_of(bytes);
    if (c == npos) return std::malloc(bytes);
    {
        std::lock_guard lock(s_->m);
        auto& free_list = s_->kept[c];
        if (!free_list.empty()) {
            void* p = free_list.back();
            free_list.pop_back();
            --s_->kept_total;
            return p;
        }
    }
    void* p = std::malloc(class_size(c));
    if (p == nullptr) return nullptr;
    std::lock_guard lock(s_->m);
    s_->classes.emplace(p, c);
    return p;
}

void openssl_buffer_cache::release(void* p) {
    if (p == nullptr) return;
    {
        std::lock_guard lock(s_->m);
        const auto it = s_->classes.find(p);
        if (it != s_->classes.end()) {
            auto& free_list = s_->kept[it->second];
            if (free_list.size() < kept_per_class) {
                free_list.push_back(p);
                ++s_->kept_total;
                return;
            }
            s_->classes.erase(it);
        }
    }
    std::free(p);
}

void* openssl_buffer_cache::reallocate(void* p, std::size_t bytes) {
    if (p == nullptr) return allocate(bytes);
    std::size_t c = npos;
    {
        std::lock_guard lock(s_->m);
        if (const auto it = s_->classes.find(p); it != s_->classes.end()) c = it->second;
    }
    if (c == npos) return std::realloc(p, bytes);  // a malloc block stays one
    if (bytes <= class_size(c)) return p;
    void* q = allocate(bytes);
    if (q == nullptr) return nullptr;  // p stays valid, as realloc leaves it
    std::memcpy(q, p, class_size(c));
    release(p);
    return q;
}

std::size_t openssl_buffer_cache::blocks() const {
    std::lock_guard lock(s_->m);
    return s_->classes.size();
}

std::size_t openssl_buffer_cache::kept() const {
    std::lock_guard lock(s_->m);
    return s_->kept_total;
}

namespace {
void* cache_malloc(std::size_t n, const char*, int) { return openssl_buffer_cache::global().allocate(n); }
void* cache_realloc(void* p, std::size_t n, const char*, int) {
    return openssl_buffer_cache::global().reallocate(p, n);
}
void cache_free(void* p, const char*, int) { openssl_buffer_cache::global().release(p); }
}  // namespace

bool install_openssl_buffer_cache() {
    openssl_buffer_cache::global();
    return CRYPTO_set_mem_functions(cache_malloc, cache_realloc, cache_free) == 1;
}

}  // namespace tlsbroker::core
