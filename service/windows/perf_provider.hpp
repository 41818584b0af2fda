// PerfLib v2 provider: the counter set "TLS Broker", one instance per listener plus
// "_Total", each counter published by reference (no copy, no update call per change) as
// service/windows/perf_layout.hpp lists them: the live atomics in core::counter_block, raw and
// as per-second rates. installer/tlsbroker.man describes the same set.
//
// A thread of the provider follows the server once a second: instances for listeners a reload
// added (SCM PARAMCHANGE, POST /reload, whatever the trigger), instances of removed listeners
// deleted, and the "last accept age seconds" values and the averaging pairs (handshake and
// backend connect time, from the listeners' histograms; _Total: over every listener)
// recomputed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/server/server.hpp"
#include "service/windows/perf_layout.hpp"

namespace tlsbroker::service {

class perf_provider {
public:
    perf_provider() = default;
    ~perf_provider();
    perf_provider(const perf_provider&) = delete;
    perf_provider& operator=(const perf_provider&) = delete;

    // Starts the provider, creates the instances and the follower thread. Failure is logged
    // and counted in failures(), never fatal. `srv` must outlive stop().
    bool start(const core::server& srv);
    void stop();
    std::uint64_t failures() const { return failures_.load(); }

private:
    struct instance {
        void* handle = nullptr;
        const core::counter_block* block = nullptr;
        // Seconds since each timestamp counter's stamp, by counter; published by reference.
        std::map<core::counter, std::unique_ptr<std::atomic<std::int64_t>>> ages;
        const core::histogram_block* histograms = nullptr;  // null: _Total (every listener's)
        struct average {
            const perf_layout::perf_counter* counter;
            std::unique_ptr<std::atomic<std::uint64_t>> value;
        };
        std::vector<average> averages;  // published by reference
    };

    void sync();     // instances = the server's listeners (+ _Total)
    void refresh();  // ages and averages
    bool add_instance(const std::wstring& name, const core::counter_block& block,
                      const core::histogram_block* histograms);
    void remove_instance(std::map<std::wstring, instance>::iterator it);
    void follow();

    const core::server* srv_ = nullptr;
    void* provider_ = nullptr;
    std::map<std::wstring, instance> instances_;
    unsigned long next_id_ = 0;
    std::atomic<std::uint64_t> failures_{0};
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tlsbroker::service
