#include "service/windows/key_access.hpp"

#include <windows.h>

// sddl.h needs windows.h first.
#include <sddl.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/cert_store.hpp"
#include "config/loader.hpp"
#include "config/utf16_windows.hpp"
#include "service/windows/key_access_task.hpp"
#include "service/windows/service_sid.hpp"

namespace tlsbroker::service {

namespace {

struct sc_closer {
    void operator()(SC_HANDLE h) const { CloseServiceHandle(h); }
};
using sc_ptr = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, sc_closer>;

// Asks a running tlsbroker service to reload (PARAMCHANGE), so that a certificate whose key it
// could not read is taken now, not at the next restart. Whether it was running and asked.
bool ask_running_service_to_reload() {
    const sc_ptr scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (!scm) return false;
    // PARAMCHANGE needs the pause/continue right.
    const sc_ptr svc(OpenServiceW(scm.get(), L"tlsbroker", SERVICE_QUERY_STATUS | SERVICE_PAUSE_CONTINUE));
    SERVICE_STATUS status{};
    if (!svc || !QueryServiceStatus(svc.get(), &status) || status.dwCurrentState != SERVICE_RUNNING) return false;
    return ControlService(svc.get(), SERVICE_CONTROL_PARAMCHANGE, &status) != FALSE;
}

// The account the tlsbroker service runs as ("" when it is not installed).
std::string service_account() {
    const sc_ptr scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (!scm) return {};
    const sc_ptr svc(OpenServiceW(scm.get(), L"tlsbroker", SERVICE_QUERY_CONFIG));
    if (!svc) return {};
    DWORD n = 0;
    QueryServiceConfigW(svc.get(), nullptr, 0, &n);
    std::vector<unsigned char> buf(n);
    auto* cfg = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buf.data());
    if (n == 0 || !QueryServiceConfigW(svc.get(), cfg, n, &n) || cfg->lpServiceStartName == nullptr) return {};
    return config::narrow_utf8(cfg->lpServiceStartName);
}

// The account's SID as text; "" with `problem` set when it cannot be found.
std::string sid_of(const std::string& account, std::string& problem) {
    if (account.empty() || _stricmp(account.c_str(), "NT SERVICE\\tlsbroker") == 0) return service_sid("tlsbroker");
    const std::wstring w = config::widen_utf8(account);
    DWORD sid_size = 0, domain_size = 0;
    SID_NAME_USE use{};
    LookupAccountNameW(nullptr, w.c_str(), nullptr, &sid_size, nullptr, &domain_size, &use);
    std::vector<unsigned char> sid(sid_size);
    std::wstring domain(domain_size, L'\0');
    LPSTR text = nullptr;
    if (sid_size == 0 ||
        !LookupAccountNameW(nullptr, w.c_str(), sid.data(), &sid_size, domain.data(), &domain_size, &use) ||
        !ConvertSidToStringSidA(sid.data(), &text)) {
        problem = "cannot find the account " + account + " (" + std::to_string(GetLastError()) + ")";
        return {};
    }
    std::string out = text;
    LocalFree(text);
    return out;
}

// The store references of the config's listeners and SNI entries; nullopt, with the problems
// written to `err`, when the config does not load.
std::optional<std::vector<config::store_reference>> store_references(const std::filesystem::path& config,
                                                                     std::ostream& err) {
    const auto loaded = config::load_file(config);
    if (!loaded.config) {
        err << config.string() << ": " << loaded.errors.size() << " problem(s); fix them first:\n";
        for (const auto& e : loaded.errors) err << "  " << e.to_string() << '\n';
        return std::nullopt;
    }
    std::vector<config::store_reference> refs;
    for (const auto& l : loaded.config->listeners) {
        if (l.tls.certificate_store.used()) refs.push_back(l.tls.certificate_store);
        for (const auto& s : l.tls.sni)
            if (s.certificate_store.used()) refs.push_back(s.certificate_store);
    }
    return refs;
}

}  // namespace

int grant_key_access(const std::filesystem::path& config, std::ostream& out, std::ostream& err) {
    const auto found = store_references(config, err);
    if (!found) return 1;
    const auto& refs = *found;
    if (refs.empty()) {
        out << config.string() << " names no store certificate: nothing to grant\n";
        return 0;
    }
    const auto account = service_account();
    if (_stricmp(account.c_str(), "LocalSystem") == 0) {
        out << "the service runs as LocalSystem, which reads every machine key: nothing to grant\n";
        return 0;
    }
    std::string problem;
    const auto sid = sid_of(account, problem);
    if (sid.empty()) {
        err << "tlsbroker: " << problem << '\n';
        return 1;
    }
    int status = 0;
    bool granted = false;
    for (const auto& ref : refs) {
        std::vector<std::string> report;
        problem = config::grant_key_read(ref, sid, report);
        for (const auto& line : report) {
            out << line << '\n';
            granted = granted || line.find(": read access to its private key granted to ") != std::string::npos;
        }
        if (!problem.empty()) {
            err << "tlsbroker: " << ref.text() << ": " << problem << '\n';
            status = 1;
        }
    }
    if (granted && ask_running_service_to_reload())
        out << "the running service was asked to reload (PARAMCHANGE), so it takes the certificates now\n";
    return status;
}

int register_key_access_task(const std::string& config, std::ostream& out, std::ostream& err) {
    // The MSI runs this on every install, repair and upgrade: the task follows the config.
    const auto refs = store_references(config, err);
    if (!refs) return 1;
    if (refs->empty()) {
        out << config << " names no store certificate: no renewal task needed\n";
        return 0;
    }
    std::wstring exe(MAX_PATH, L'\0');
    exe.resize(GetModuleFileNameW(nullptr, exe.data(), MAX_PATH));
    std::wstring system(MAX_PATH, L'\0');
    system.resize(GetSystemDirectoryW(system.data(), MAX_PATH));
    if (exe.empty() || system.empty()) {
        err << "tlsbroker: cannot find this program's or the system's folder (" << GetLastError() << ")\n";
        return 1;
    }
    // schtasks reads the XML as UTF-16 (little-endian, with its byte order mark).
    const auto file = std::filesystem::path(config).parent_path() / "key-access-task.xml";
    const auto xml = config::widen_utf8(key_access_task_xml(config::narrow_utf8(exe.c_str()), config));
    {
        std::ofstream f(file, std::ios::binary | std::ios::trunc);
        f.write("\xFF\xFE", 2);
        f.write(reinterpret_cast<const char*>(xml.data()), static_cast<std::streamsize>(xml.size() * sizeof(wchar_t)));
        if (!f) {
            err << "tlsbroker: cannot write " << file.string() << '\n';
            return 1;
        }
    }
    std::wstring command = L"\"" + system + L"\\schtasks.exe\" /Create /TN \"" +
                           config::widen_utf8(key_access_task_name) + L"\" /XML \"" + file.wstring() + L"\" /F";
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    DWORD code = 1;
    if (CreateProcessW(nullptr, command.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW, nullptr, nullptr, &si,
                       &pi)) {
        if (WaitForSingleObject(pi.hProcess, 60000) != WAIT_OBJECT_0 || !GetExitCodeProcess(pi.hProcess, &code))
            code = 1;
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
    } else {
        err << "tlsbroker: cannot run schtasks (" << GetLastError() << ")\n";
    }
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
    if (code == 0)
        out << "scheduled task " << key_access_task_name
            << " registered: it grants renewed certificates' keys on certificate lifecycle events 1001 and 1006\n";
    else
        err << "tlsbroker: schtasks could not register " << key_access_task_name << " (exit " << code << ")\n";
    return static_cast<int>(code);
}

}  // namespace tlsbroker::service
