// core/openssl_memory: which requests the cache takes, reuse of freed blocks, the cap on
// what it keeps, and realloc within and across size classes. (A private cache, not the one
// OpenSSL may use in this process.)
#include "core/tls/openssl_memory.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using tlsbroker::core::openssl_buffer_cache;

TEST(openssl_buffer_cache, takes_only_requests_between_16_and_128_kib_in_4_kib_classes) {
    EXPECT_EQ(openssl_buffer_cache::class_of(4096), openssl_buffer_cache::npos);
    EXPECT_EQ(openssl_buffer_cache::class_of(16383), openssl_buffer_cache::npos);
    EXPECT_EQ(openssl_buffer_cache::class_of(16384), 3u);
    EXPECT_EQ(openssl_buffer_cache::class_of(16385), 4u);
    EXPECT_EQ(openssl_buffer_cache::class_of(17 * 1024 + 5), 4u);
    EXPECT_EQ(openssl_buffer_cache::class_of(128 * 1024), 31u);
    EXPECT_EQ(openssl_buffer_cache::class_of(128 * 1024 + 1), openssl_buffer_cache::npos);

    openssl_buffer_cache cache;
    void* small = cache.allocate(8000);
    void* huge = cache.allocate(256 * 1024);
    ASSERT_NE(small, nullptr);
    ASSERT_NE(huge, nullptr);
    EXPECT_EQ(cache.blocks(), 0u) << "a request outside the classes entered the cache";
    cache.release(small);
    cache.release(huge);
    EXPECT_EQ(cache.kept(), 0u);
}

TEST(openssl_buffer_cache, a_freed_record_buffer_is_handed_out_again_for_the_same_class) {
    openssl_buffer_cache cache;
    void* first = cache.allocate(17 * 1024 + 325);  // a TLS write buffer
    ASSERT_NE(first, nullptr);
    std::memset(first, 0xab, 17 * 1024 + 325);
    cache.release(first);
    EXPECT_EQ(cache.kept(), 1u);
    EXPECT_EQ(cache.allocate(17 * 1024 + 1), first) << "the kept block of that class was not reused";
    EXPECT_EQ(cache.kept(), 0u);
    void* other = cache.allocate(64 * 1024 + 100);  // another class: a block of its own
    EXPECT_NE(other, first);
    EXPECT_EQ(cache.blocks(), 2u);
    cache.release(other);
    cache.release(first);
    EXPECT_EQ(cache.kept(), 2u);
}

TEST(openssl_buffer_cache, keeps_at_most_its_cap_of_freed_blocks_per_class) {
    openssl_buffer_cache cache;
    std::vector<void*> held;
    for (std::size_t i = 0; i < openssl_buffer_cache::kept_per_class + 5; ++i) held.push_back(cache.allocate(30000));
    EXPECT_EQ(cache.blocks(), held.size());
    for (void* p : held) cache.release(p);
    EXPECT_EQ(cache.kept(), openssl_buffer_cache::kept_per_class);
    EXPECT_EQ(cache.blocks(), openssl_buffer_cache::kept_per_class) << "blocks over the cap were not freed";
}

TEST(openssl_buffer_cache, realloc_stays_within_a_class_and_moves_the_bytes_across_classes) {
    openssl_buffer_cache cache;
    auto* p = static_cast<char*>(cache.allocate(17000));
    ASSERT_NE(p, nullptr);
    const std::string text = "record bytes that must survive";
    std::memcpy(p, text.data(), text.size());
    EXPECT_EQ(cache.reallocate(p, 20480), p) << "a size within the block's class moved it";
    auto* q = static_cast<char*>(cache.reallocate(p, 40000));
    ASSERT_NE(q, nullptr);
    EXPECT_NE(q, p);
    EXPECT_EQ(std::string(q, text.size()), text);
    EXPECT_EQ(cache.kept(), 1u) << "the old block was not kept for reuse";

    // A malloc block (below the classes) grows with realloc and stays out of the cache.
    auto* m = static_cast<char*>(cache.reallocate(nullptr, 64));
    std::memcpy(m, text.data(), text.size());
    m = static_cast<char*>(cache.reallocate(m, 50000));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(std::string(m, text.size()), text);
    EXPECT_EQ(cache.blocks(), 2u);
    cache.release(m);
    cache.release(q);
}

}  // namespace
