#include "service/windows/perf_provider.hpp"

#include <windows.h>
#include <perflib.h>
#include <winperf.h>

#include <vector>

#include "core/log.hpp"

// MinGW's perflib.h lacks some Windows SDK constants.
#ifndef PERF_COUNTERSET_MULTI_INSTANCES
#define PERF_COUNTERSET_MULTI_INSTANCES 2
#endif
#ifndef PERF_ATTRIB_BY_REFERENCE
#define PERF_ATTRIB_BY_REFERENCE 0x0000000000000001ULL
#endif

namespace tlsbroker::service {

namespace {

// Must match installer/tlsbroker.man.
GUID provider_guid = {0x7d4a3a5e, 0x2c1b, 0x4f7e, {0x9a, 0x61, 0x3b, 0x5c, 0x0e, 0x2d, 0x8f, 0x10}};
const GUID counterset_guid = {0x0c3e9b7a, 0x5d21, 0x4b8f, {0xa6, 0xe4, 0x91, 0xf2, 0xd3, 0xc4, 0xb5, 0xa6}};

std::wstring widen(const std::string& s) { return std::wstring(s.begin(), s.end()); }

}  // namespace

perf_provider::~perf_provider() { stop(); }

bool perf_provider::start(const core::server& srv) {
    HANDLE h = nullptr;
    ULONG rc = PerfStartProvider(&provider_guid, nullptr, &h);
    if (rc != ERROR_SUCCESS) {
        ++failures_;
        TB_LOG_WARN("perf counters: provider not started (error ", rc, "); counters stay available on /metrics");
        return false;
    }
    provider_ = h;
    std::vector<unsigned char> tmpl(sizeof(PERF_COUNTERSET_INFO) + core::counter_count * sizeof(PERF_COUNTER_INFO));
    auto* set = reinterpret_cast<PERF_COUNTERSET_INFO*>(tmpl.data());
    set->CounterSetGuid = counterset_guid;
    set->ProviderGuid = provider_guid;
    set->NumCounters = static_cast<ULONG>(core::counter_count);
    set->InstanceType = PERF_COUNTERSET_MULTI_INSTANCES;
    auto* counters = reinterpret_cast<PERF_COUNTER_INFO*>(set + 1);
    for (std::size_t i = 0; i < core::counter_count; ++i) {
        counters[i].CounterId = static_cast<ULONG>(i);
        counters[i].Type = PERF_COUNTER_LARGE_RAWCOUNT;
        counters[i].Attrib = PERF_ATTRIB_BY_REFERENCE;
        counters[i].Size = sizeof(std::uint64_t);
        counters[i].DetailLevel = PERF_DETAIL_NOVICE;
        counters[i].Scale = 0;
        counters[i].Offset = 0;
    }
    rc = PerfSetCounterSetInfo(h, set, static_cast<ULONG>(tmpl.size()));
    if (rc != ERROR_SUCCESS) {
        ++failures_;
        TB_LOG_WARN("perf counters: counter set not registered (error ", rc, ")");
        stop();
        return false;
    }
    add_instance(L"_Total", srv.total_counters());
    sync(srv);
    TB_LOG_INFO("perf counters: provider started (", instances_.size(), " instances)");
    return true;
}

bool perf_provider::add_instance(const std::wstring& name, const core::counter_block& block) {
    if (provider_ == nullptr || instances_.count(name) != 0) return true;
    PPERF_COUNTERSET_INSTANCE inst = PerfCreateInstance(static_cast<HANDLE>(provider_), &counterset_guid,
                                                        name.c_str(), next_id_++);
    if (inst == nullptr) {
        ++failures_;
        TB_LOG_WARN("perf counters: cannot create an instance (error ", GetLastError(), ")");
        return false;
    }
    for (std::size_t i = 0; i < core::counter_count; ++i) {
        // By reference: perfmon reads the live atomic itself.
        void* address = const_cast<std::atomic<std::uint64_t>*>(&block.values[i]);
        const ULONG rc = PerfSetCounterRefValue(static_cast<HANDLE>(provider_), inst, static_cast<ULONG>(i), address);
        if (rc != ERROR_SUCCESS) {
            ++failures_;
            TB_LOG_WARN("perf counters: cannot publish counter ", i, " (error ", rc, ")");
            break;
        }
    }
    instances_.emplace(name, inst);
    return true;
}

void perf_provider::sync(const core::server& srv) {
    for (const auto& [name, block] : srv.listener_counters()) add_instance(widen(name), *block);
}

void perf_provider::stop() {
    if (provider_ == nullptr) return;
    for (auto& [name, inst] : instances_)
        PerfDeleteInstance(static_cast<HANDLE>(provider_), static_cast<PPERF_COUNTERSET_INSTANCE>(inst));
    instances_.clear();
    PerfStopProvider(static_cast<HANDLE>(provider_));
    provider_ = nullptr;
}

}  // namespace tlsbroker::service
