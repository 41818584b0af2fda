// A key that cannot sign (core/tls/key_sign_failures.hpp): the failure is logged at warning level
// with the signer's reason and counted in the total block a server counts into, and no more once
// it stopped.
#include "core/tls/key_sign_failures.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "config/external_key.hpp"
#include "core/common/log.hpp"
#include "support/memory_tls.hpp"

using namespace tlsbroker;

namespace {

struct refusing_signer : config::key_signer {
    bool sign(const config::sign_request&, std::vector<unsigned char>&, std::string& problem) override {
        problem = "NCryptSignHash failed (0x80090016)";
        return false;
    }
};

// One signature with `key` over a SHA-256 digest: whether OpenSSL made it.
bool try_sign(EVP_PKEY* key) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    const unsigned char data[] = "transcript";
    unsigned char sig[512];
    std::size_t n = sizeof sig;
    const bool ok = EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) == 1 &&
                    EVP_DigestSign(md.get(), sig, &n, data, sizeof data) == 1;
    ERR_clear_error();
    return ok;
}

TEST(key_sign_failures, counted_in_the_total_block_while_a_server_counts) {
    const auto leaf = test::make_memory_leaf(test::key_type::ecdsa_p256);
    ASSERT_TRUE(leaf.cert);
    std::string problem;
    auto key = config::make_external_key(leaf.cert.get(), std::make_shared<refusing_signer>(), problem);
    ASSERT_TRUE(key) << problem;

    core::counter_block total;
    core::count_key_sign_failures(total);
    {
        log::capture cap;
        EXPECT_FALSE(try_sign(key.get()));
        EXPECT_TRUE(
            cap.contains("[warning] TLS handshake failed: the private key could not sign: NCryptSignHash "
                         "failed (0x80090016)"))
            << (cap.lines().empty() ? "" : cap.lines().back());
    }
    EXPECT_FALSE(try_sign(key.get()));
    EXPECT_EQ(total.get(core::counter::key_sign_failures), 2u);

    core::counter_block other;
    core::stop_counting_key_sign_failures(other);  // not the block counted into: no change
    EXPECT_FALSE(try_sign(key.get()));
    EXPECT_EQ(total.get(core::counter::key_sign_failures), 3u);
    core::stop_counting_key_sign_failures(total);
    EXPECT_FALSE(try_sign(key.get()));
    EXPECT_EQ(total.get(core::counter::key_sign_failures), 3u);
}

}  // namespace
