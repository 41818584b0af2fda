#include "core/tls/key_sign_failures.hpp"

#include <atomic>
#include <string>

#include "config/external_key.hpp"
#include "core/common/log.hpp"

namespace tlsbroker::core {

namespace {

std::atomic<counter_block*> counted{nullptr};

void on_failure(const std::string& problem) {
    if (auto* total = counted.load()) total->add(counter::key_sign_failures);
    log::limited(log::level::warning, "tls:key-sign",
                 "TLS handshake failed: the private key could not sign: " + problem);
}

}  // namespace

void count_key_sign_failures(counter_block& total) {
    counted.store(&total);
    config::set_sign_failure_hook(&on_failure);
}

void stop_counting_key_sign_failures(const counter_block& total) {
    auto* expected = const_cast<counter_block*>(&total);
    counted.compare_exchange_strong(expected, nullptr);
}

}  // namespace tlsbroker::core
