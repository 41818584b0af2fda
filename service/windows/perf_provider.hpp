// PerfLib v2 provider: the counter set "TLS Broker", one instance per listener plus
// "_Total", each counter published by reference to the live atomics in core::counter_block
// (no copy, no update call per change). installer/tlsbroker.man describes the same set.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "core/server.hpp"

namespace tlsbroker::service {

class perf_provider {
public:
    perf_provider() = default;
    ~perf_provider();
    perf_provider(const perf_provider&) = delete;
    perf_provider& operator=(const perf_provider&) = delete;

    // Starts the provider and creates the instances. Failure is logged and counted in
    // failures(), never fatal.
    bool start(const core::server& srv);
    // Adds instances for listeners that appeared since (after a reload).
    void sync(const core::server& srv);
    void stop();
    std::uint64_t failures() const { return failures_.load(); }

private:
    bool add_instance(const std::wstring& name, const core::counter_block& block);

    void* provider_ = nullptr;
    std::map<std::wstring, void*> instances_;
    unsigned long next_id_ = 0;
    std::atomic<std::uint64_t> failures_{0};
};

}  // namespace tlsbroker::service
