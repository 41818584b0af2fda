#include "core/tls/cert_expiry.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "config/credentials.hpp"
#include "config/json_reader.hpp"

namespace tlsbroker::core {

namespace {

using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool to_unix(const ASN1_TIME* t, std::int64_t& out) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
    out = days_from_civil(tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday)) *
              86400 +
          std::int64_t{tm.tm_hour} * 3600 + std::int64_t{tm.tm_min} * 60 + tm.tm_sec;
    return true;
}

bio_ptr open_file(const std::filesystem::path& file, std::string& content, std::string& error) {
    if (const auto why = config::read_file(file, content); !why.empty()) {
        error = "cannot read " + file.string() + ": " + why;
        return {nullptr, &BIO_free};
    }
    return {BIO_new_mem_buf(content.data(), static_cast<int>(content.size())), &BIO_free};
}

}  // namespace

leaf_facts read_leaf(const std::filesystem::path& cert) {
    leaf_facts f;
    std::string content;
    auto bio = open_file(cert, content, f.error);
    if (!bio) return f;
    std::unique_ptr<X509, decltype(&X509_free)> x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
    ERR_clear_error();
    if (!x) {
        f.error = "malformed certificate " + cert.string();
        return f;
    }
    return leaf_of(x.get(), cert);
}

leaf_facts read_leaf(const config::certificate_source& source) {
    const auto c = config::read_credentials(source);
    if (c.leaf) return leaf_of(c.leaf.get(), source.label());
    leaf_facts f;
    f.error = c.problems.empty() ? "no certificate in " + source.label() : c.problems.front().message;
    return f;
}

leaf_facts leaf_of(const X509* x, const std::filesystem::path& file) {
    leaf_facts f;
    if (!to_unix(X509_get0_notAfter(x), f.not_after) || !to_unix(X509_get0_notBefore(x), f.not_before)) {
        f.error = "malformed certificate " + file.string() + " (unreadable validity dates)";
        return f;
    }
    f.sha256 = config::sha256_fingerprint(x);
    f.thumbprint = config::sha1_thumbprint(x);
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
    if (char* hex = bn != nullptr ? BN_bn2hex(bn) : nullptr) {
        f.serial = hex;
        OPENSSL_free(hex);
    }
    BN_free(bn);
    char subject[512] = {0};
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
    f.subject = subject;
    f.ok = true;
    return f;
}

crl_facts read_crl(const std::filesystem::path& crl) {
    crl_facts f;
    std::string content;
    auto bio = open_file(crl, content, f.error);
    if (!bio) return f;
    std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> c(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr),
                                                          &X509_CRL_free);
    ERR_clear_error();
    if (!c) {
        f.error = "malformed CRL " + crl.string();
        return f;
    }
    if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(c.get())) to_unix(next, f.next_update);
    const auto* revoked = X509_CRL_get_REVOKED(c.get());
    f.revoked = revoked != nullptr ? static_cast<std::size_t>(sk_X509_REVOKED_num(revoked)) : 0;
    f.ok = true;
    return f;
}

std::int64_t threshold_reached(std::int64_t seconds_left) {
    if (seconds_left <= 0) return -1;
    std::int64_t reached = 0;
    for (const auto days : expiry_warning_days)
        if (seconds_left <= days * 86400) reached = days;
    return reached;
}

std::int64_t expiry_warnings::check(const std::string& file, std::int64_t not_after, std::int64_t now) {
    const auto reached = threshold_reached(not_after - now);
    if (reached == 0) return 0;
    auto [it, fresh] = warned_.emplace(std::make_pair(file, not_after), 0);
    // Thresholds only tighten: 30 → 14 → 7 → 1 → -1 (expired); each is warned about once.
    const auto rank = [](std::int64_t t) { return t == 0 ? 0 : t == -1 ? 1000 : 100 - t; };
    if (!fresh && rank(it->second) >= rank(reached)) return 0;
    it->second = reached;
    return reached;
}

void expiry_warnings::keep_only(const std::map<std::string, std::int64_t>& in_use) {
    std::erase_if(warned_, [&](const auto& e) {
        const auto f = in_use.find(e.first.first);
        return f == in_use.end() || f->second != e.first.second;
    });
}

std::uint64_t days_left(std::int64_t not_after, std::int64_t now) {
    return not_after <= now ? 0 : static_cast<std::uint64_t>((not_after - now) / 86400);
}

std::string format_utc(std::int64_t t) {
    const std::int64_t days = (t >= 0 ? t : t - 86399) / 86400;
    const std::int64_t secs = t - days * 86400;
    // civil_from_days
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60));
    return buf;
}

std::int64_t unix_now() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace tlsbroker::core
