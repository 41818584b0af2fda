// The CNG signer (config/ncrypt_signer_windows.cpp) behind an external key: an RSA key made by
// OpenSSL is imported into the software key storage provider (an ephemeral key: Wine 8 cannot
// import a named, non-exportable one, nor an EC key; service/README.md), and TLS handshakes
// are signed by NCryptSignHash. Windows only (under Wine: tests/windows/run-unit-tests.sh).
#include <windows.h>

// bcrypt.h and ncrypt.h need windows.h first.
#include <bcrypt.h>
#include <gtest/gtest.h>
#include <ncrypt.h>
#include <openssl/core_names.h>

#include <vector>

#include "config/external_key.hpp"
#include "config/ncrypt_signer.hpp"
#include "support/memory_tls.hpp"

using namespace tlsbroker;

namespace {

// The key as a BCRYPT_RSAPRIVATE_BLOB: the header, then e, n, p, q big-endian.
std::vector<unsigned char> rsa_private_blob(EVP_PKEY* key) {
    const char* names[] = {OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_FACTOR1,
                           OSSL_PKEY_PARAM_RSA_FACTOR2};
    std::vector<unsigned char> parts[4];
    for (int i = 0; i < 4; ++i) {
        BIGNUM* bn = nullptr;
        if (EVP_PKEY_get_bn_param(key, names[i], &bn) != 1) return {};
        parts[i].resize(static_cast<std::size_t>(BN_num_bytes(bn)));
        BN_bn2bin(bn, parts[i].data());
        BN_free(bn);
    }
    BCRYPT_RSAKEY_BLOB h{BCRYPT_RSAPRIVATE_MAGIC,
                         static_cast<ULONG>(EVP_PKEY_get_bits(key)),
                         static_cast<ULONG>(parts[0].size()),
                         static_cast<ULONG>(parts[1].size()),
                         static_cast<ULONG>(parts[2].size()),
                         static_cast<ULONG>(parts[3].size())};
    std::vector<unsigned char> blob(reinterpret_cast<unsigned char*>(&h),
                                    reinterpret_cast<unsigned char*>(&h) + sizeof h);
    for (const auto& p : parts) blob.insert(blob.end(), p.begin(), p.end());
    return blob;
}

TEST(ncrypt_signer, signs_tls12_and_tls13_handshakes_with_a_cng_rsa_key) {
    const auto leaf = test::make_memory_leaf(test::key_type::rsa2048);
    ASSERT_TRUE(leaf.cert && leaf.key);
    auto blob = rsa_private_blob(leaf.key.get());
    ASSERT_FALSE(blob.empty());
    NCRYPT_PROV_HANDLE prov = 0;
    NCRYPT_KEY_HANDLE key = 0;
    ASSERT_EQ(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
    ASSERT_EQ(NCryptImportKey(prov, 0, BCRYPT_RSAPRIVATE_BLOB, nullptr, &key, blob.data(),
                              static_cast<DWORD>(blob.size()), 0),
              ERROR_SUCCESS);
    SecureZeroMemory(blob.data(), blob.size());
    auto signer = config::make_ncrypt_signer(key, prov);  // owns both handles now
    EXPECT_EQ(config::try_signer(*signer, false), "");
    std::string problem;
    auto external = config::make_external_key(leaf.cert.get(), signer, problem);
    ASSERT_TRUE(external) << problem;
    auto ctx = test::server_ctx(leaf.cert.get(), external.get());

    auto o = test::handshake(ctx.get(), leaf.cert.get(), TLS1_2_VERSION, "RSA+SHA256");
    EXPECT_TRUE(o.ok) << o.server_error;
    EXPECT_EQ(o.signature_type, EVP_PKEY_RSA);
    o = test::handshake(ctx.get(), leaf.cert.get(), TLS1_2_VERSION, "rsa_pss_rsae_sha384");
    EXPECT_TRUE(o.ok) << o.server_error;
    EXPECT_EQ(o.signature_type, EVP_PKEY_RSA_PSS);
    EXPECT_EQ(o.digest, NID_sha384);
    o = test::handshake(ctx.get(), leaf.cert.get(), TLS1_3_VERSION, "rsa_pss_rsae_sha256");
    EXPECT_TRUE(o.ok) << o.server_error;
    EXPECT_EQ(o.signature_type, EVP_PKEY_RSA_PSS);
    EXPECT_EQ(o.verify, X509_V_OK);
}

TEST(ncrypt_signer, a_digest_cng_does_not_sign_is_a_problem_not_a_crash) {
    const auto leaf = test::make_memory_leaf(test::key_type::rsa2048);
    auto blob = rsa_private_blob(leaf.key.get());
    NCRYPT_PROV_HANDLE prov = 0;
    NCRYPT_KEY_HANDLE key = 0;
    ASSERT_EQ(NCryptOpenStorageProvider(&prov, MS_KEY_STORAGE_PROVIDER, 0), ERROR_SUCCESS);
    ASSERT_EQ(NCryptImportKey(prov, 0, BCRYPT_RSAPRIVATE_BLOB, nullptr, &key, blob.data(),
                              static_cast<DWORD>(blob.size()), 0),
              ERROR_SUCCESS);
    auto signer = config::make_ncrypt_signer(key, prov);
    const unsigned char hash[28] = {};
    config::sign_request r;
    r.digest = r.mgf1_digest = "SHA224";
    r.hash = hash;
    r.hash_size = sizeof hash;
    std::vector<unsigned char> sig;
    std::string problem;
    EXPECT_FALSE(signer->sign(r, sig, problem));
    EXPECT_EQ(problem, "CNG does not sign SHA224 digests");
}

}  // namespace
