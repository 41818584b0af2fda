#include "service/windows/perf_provider.hpp"

#include <windows.h>
#include <perflib.h>
#include <winperf.h>

#include <set>
#include <vector>

#include "config/utf16_windows.hpp"
#include "core/common/log.hpp"
#include "service/windows/perf_layout.hpp"

// MinGW's perflib.h lacks some Windows SDK constants.
#ifndef PERF_COUNTERSET_MULTI_INSTANCES
#define PERF_COUNTERSET_MULTI_INSTANCES 2
#endif
#ifndef PERF_ATTRIB_BY_REFERENCE
#define PERF_ATTRIB_BY_REFERENCE 0x0000000000000001ULL
#endif

namespace tlsbroker::service {

namespace {

// Must match installer/tlsbroker.man (and perf_ids.hpp).
GUID provider_guid = {0x7d4a3a5e, 0x2c1b, 0x4f7e, {0x9a, 0x61, 0x3b, 0x5c, 0x0e, 0x2d, 0x8f, 0x10}};
const GUID counterset_guid = {0x0c3e9b7a, 0x5d21, 0x4b8f, {0xa6, 0xe4, 0x91, 0xf2, 0xd3, 0xc4, 0xb5, 0xa6}};
const std::wstring total_name = L"_Total";

}  // namespace

perf_provider::~perf_provider() { stop(); }

bool perf_provider::start(const core::server& srv) {
    srv_ = &srv;
    HANDLE h = nullptr;
    ULONG rc = PerfStartProvider(&provider_guid, nullptr, &h);
    if (rc != ERROR_SUCCESS) {
        ++failures_;
        TB_LOG_WARN("perf counters: provider not started (error ", rc, "); counters stay available on /metrics");
        return false;
    }
    provider_ = h;
    const auto& layout = perf_layout::counters();
    std::vector<unsigned char> tmpl(sizeof(PERF_COUNTERSET_INFO) + layout.size() * sizeof(PERF_COUNTER_INFO));
    auto* set = reinterpret_cast<PERF_COUNTERSET_INFO*>(tmpl.data());
    set->CounterSetGuid = counterset_guid;
    set->ProviderGuid = provider_guid;
    set->NumCounters = static_cast<ULONG>(layout.size());
    set->InstanceType = PERF_COUNTERSET_MULTI_INSTANCES;
    auto* counters = reinterpret_cast<PERF_COUNTER_INFO*>(set + 1);
    for (std::size_t i = 0; i < layout.size(); ++i) {
        counters[i].CounterId = layout[i].id;
        counters[i].Type = static_cast<ULONG>(layout[i].type);
        counters[i].Attrib = PERF_ATTRIB_BY_REFERENCE;
        counters[i].Size = layout[i].size;
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
    {
        std::lock_guard lock(mu_);
        add_instance(total_name, srv.total_counters(), nullptr);
        sync();
        refresh();
        stopping_ = false;
    }
    TB_LOG_INFO("perf counters: provider started (", instances_.size(), " instances)");
    thread_ = std::thread([this] { follow(); });
    return true;
}

bool perf_provider::add_instance(const std::wstring& name, const core::counter_block& block,
                                 const core::histogram_block* histograms) {
    PPERF_COUNTERSET_INSTANCE inst =
        PerfCreateInstance(static_cast<HANDLE>(provider_), &counterset_guid, name.c_str(), next_id_++);
    if (inst == nullptr) {
        ++failures_;
        TB_LOG_WARN("perf counters: cannot create the instance ", config::narrow_utf8(name.c_str()), " (error ",
                    GetLastError(), ")");
        return false;
    }
    instance entry{inst, &block, {}, histograms, {}};
    for (const auto& c : perf_layout::counters()) {
        // By reference: perfmon reads the live value itself (4-byte rates read the low half).
        void* address = nullptr;
        if (c.from == perf_layout::source::age_seconds) {
            auto& age = entry.ages[c.value];
            if (!age) age = std::make_unique<std::atomic<std::int64_t>>(-1);
            address = age.get();
        } else if (c.from == perf_layout::source::average_sum || c.from == perf_layout::source::average_count) {
            // 4-byte counters: perfmon reads the low half (little-endian), as for the rates.
            entry.averages.push_back({&c, std::make_unique<std::atomic<std::uint64_t>>(0)});
            address = entry.averages.back().value.get();
        } else {
            address = const_cast<std::atomic<std::uint64_t>*>(&block.values[static_cast<std::size_t>(c.value)]);
        }
        const ULONG rc = PerfSetCounterRefValue(static_cast<HANDLE>(provider_), inst, c.id, address);
        if (rc != ERROR_SUCCESS) {
            ++failures_;
            TB_LOG_WARN("perf counters: cannot publish counter ", c.id, " (error ", rc, ")");
            break;
        }
    }
    instances_.emplace(name, std::move(entry));
    return true;
}

void perf_provider::remove_instance(std::map<std::wstring, instance>::iterator it) {
    PerfDeleteInstance(static_cast<HANDLE>(provider_), static_cast<PPERF_COUNTERSET_INSTANCE>(it->second.handle));
    instances_.erase(it);
}

void perf_provider::sync() {
    std::set<std::wstring> live{total_name};
    std::map<std::string, const core::histogram_block*> histograms;
    for (const auto& [name, h] : srv_->listener_histograms()) histograms[name] = h;
    for (const auto& [name_utf8, block] : srv_->listener_counters()) {
        const auto name = config::widen_utf8(name_utf8);
        live.insert(name);
        const auto it = instances_.find(name);
        if (it != instances_.end() && it->second.block == block) continue;
        if (it != instances_.end()) remove_instance(it);
        if (add_instance(name, *block, histograms[name_utf8]))
            TB_LOG_INFO("perf counters: instance ", name_utf8, " added");
    }
    for (auto it = instances_.begin(); it != instances_.end();) {
        if (live.count(it->first) != 0) {
            ++it;
            continue;
        }
        TB_LOG_INFO("perf counters: instance ", config::narrow_utf8(it->first.c_str()), " removed (listener gone)");
        auto gone = it++;
        remove_instance(gone);
    }
}

void perf_provider::refresh() {
    const auto now = core::unix_ms_now();
    LARGE_INTEGER frequency{};
    QueryPerformanceFrequency(&frequency);
    const auto all = srv_->listener_histograms();
    for (auto& [name, inst] : instances_) {
        for (auto& [stamp, age] : inst.ages)
            age->store(perf_layout::age_seconds(inst.block->get(stamp), now), std::memory_order_relaxed);
        for (auto& a : inst.averages) {
            std::uint64_t sum = 0, count = 0;
            const auto add = [&](const core::histogram_block& b) {
                for (const auto h : a.counter->histograms) {
                    const auto c = b.read(h);
                    sum += c.sum;  // microseconds (histogram_table: handshake and connect times)
                    count += c.count();
                }
            };
            if (inst.histograms != nullptr)
                add(*inst.histograms);
            else
                for (const auto& [n, b] : all) add(*b);
            const bool timer = a.counter->from == perf_layout::source::average_sum;
            a.value->store(timer ? perf_layout::ticks(sum, static_cast<std::uint64_t>(frequency.QuadPart)) : count,
                           std::memory_order_relaxed);
        }
    }
}

void perf_provider::follow() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
        sync();
        refresh();
    }
}

void perf_provider::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (provider_ == nullptr) return;
    std::lock_guard lock(mu_);
    while (!instances_.empty()) remove_instance(instances_.begin());
    PerfStopProvider(static_cast<HANDLE>(provider_));
    provider_ = nullptr;
}

}  // namespace tlsbroker::service
