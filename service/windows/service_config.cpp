#include "service/windows/service_config.hpp"

#include <windows.h>

#include <algorithm>

#include "config/loader.hpp"

namespace tlsbroker::service {

namespace {

class sc_handle {
public:
    explicit sc_handle(SC_HANDLE h) : h_(h) {}
    ~sc_handle() {
        if (h_ != nullptr) CloseServiceHandle(h_);
    }
    sc_handle(const sc_handle&) = delete;
    sc_handle& operator=(const sc_handle&) = delete;
    SC_HANDLE get() const { return h_; }

private:
    SC_HANDLE h_;
};

}  // namespace

std::uint32_t longest_drain_ms(const config::broker_config& cfg) {
    std::uint32_t longest = 0;
    for (const auto& l : cfg.listeners) longest = std::max(longest, l.timeouts.drain_ms);
    return longest;
}

std::string configure_installed_service(const std::filesystem::path& config_dir, std::ostream& out) {
    const auto loaded = config::load_file(config_dir / "tlsbroker.json");
    const std::uint32_t drain_ms = loaded.ok() ? longest_drain_ms(*loaded.config) : config::timeouts_config{}.drain_ms;
    sc_handle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (scm.get() == nullptr) return "cannot open the service manager (error " + std::to_string(GetLastError()) + ")";
    sc_handle svc(OpenServiceW(scm.get(), L"tlsbroker", SERVICE_CHANGE_CONFIG));
    if (svc.get() == nullptr) return "cannot open the service tlsbroker (error " + std::to_string(GetLastError()) + ")";
    SERVICE_PRESHUTDOWN_INFO info{drain_ms + preshutdown_margin_ms};
    if (!ChangeServiceConfig2W(svc.get(), SERVICE_CONFIG_PRESHUTDOWN_INFO, &info))
        return "cannot set the preshutdown timeout (error " + std::to_string(GetLastError()) + ")";
    out << "preshutdown timeout " << info.dwPreshutdownTimeout << " ms (drain " << drain_ms << " ms + "
        << preshutdown_margin_ms << " ms)\n";
    return {};
}

std::optional<std::uint32_t> preshutdown_timeout_ms() {
    sc_handle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (scm.get() == nullptr) return std::nullopt;
    sc_handle svc(OpenServiceW(scm.get(), L"tlsbroker", SERVICE_QUERY_CONFIG));
    if (svc.get() == nullptr) return std::nullopt;
    SERVICE_PRESHUTDOWN_INFO info{};
    DWORD needed = 0;
    if (!QueryServiceConfig2W(svc.get(), SERVICE_CONFIG_PRESHUTDOWN_INFO, reinterpret_cast<LPBYTE>(&info), sizeof info,
                              &needed))
        return std::nullopt;
    return info.dwPreshutdownTimeout;
}

}  // namespace tlsbroker::service
