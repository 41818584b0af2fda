// Test helper for the Wine suite (Wine's `sc` has no `control` or `qc`): sends a control code
// to a service, or prints its state, exit codes and configuration.
//   svcctl paramchange NAME     send SERVICE_CONTROL_PARAMCHANGE
//   svcctl query NAME           print "state=N win32_exit=N specific_exit=N"
//   svcctl qconfig NAME         print "account=… start_type=N preshutdown_ms=N" (-1: not readable)
#include <windows.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

void print_config(SC_HANDLE svc) {
    DWORD needed = 0;
    QueryServiceConfigA(svc, nullptr, 0, &needed);
    std::vector<unsigned char> buf(needed + 1);
    auto* qc = reinterpret_cast<QUERY_SERVICE_CONFIGA*>(buf.data());
    const bool have = needed != 0 && QueryServiceConfigA(svc, qc, needed, &needed);
    SERVICE_PRESHUTDOWN_INFO pre{};
    long long preshutdown = -1;
    if (QueryServiceConfig2A(svc, SERVICE_CONFIG_PRESHUTDOWN_INFO, reinterpret_cast<LPBYTE>(&pre), sizeof pre, &needed))
        preshutdown = pre.dwPreshutdownTimeout;
    std::printf("account=%s start_type=%ld preshutdown_ms=%lld\n",
                have && qc->lpServiceStartName != nullptr ? qc->lpServiceStartName : "?",
                have ? static_cast<long>(qc->dwStartType) : -1L, preshutdown);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: svcctl paramchange|query|qconfig NAME\n");
        return 2;
    }
    SC_HANDLE scm = OpenSCManagerA(nullptr, nullptr, SC_MANAGER_CONNECT);
    if (scm == nullptr) {
        std::fprintf(stderr, "OpenSCManager: %lu\n", GetLastError());
        return 1;
    }
    SC_HANDLE svc = OpenServiceA(scm, argv[2], SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG | SERVICE_PAUSE_CONTINUE);
    if (svc == nullptr) {
        std::fprintf(stderr, "OpenService: %lu\n", GetLastError());
        return 1;
    }
    SERVICE_STATUS st{};
    int rc = 0;
    if (std::strcmp(argv[1], "paramchange") == 0) {
        if (!ControlService(svc, SERVICE_CONTROL_PARAMCHANGE, &st)) {
            std::fprintf(stderr, "ControlService: %lu\n", GetLastError());
            rc = 1;
        }
    } else if (std::strcmp(argv[1], "query") == 0) {
        if (QueryServiceStatus(svc, &st))
            std::printf("state=%lu win32_exit=%lu specific_exit=%lu\n", st.dwCurrentState, st.dwWin32ExitCode,
                        st.dwServiceSpecificExitCode);
        else
            rc = 1;
    } else if (std::strcmp(argv[1], "qconfig") == 0) {
        print_config(svc);
    } else {
        rc = 2;
    }
    std::fflush(stdout);
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}
