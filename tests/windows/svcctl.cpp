// Test helper for the Wine suite (Wine's `sc` has no `control`): sends a control code to a
// service, or prints its state and exit codes.
//   svcctl paramchange NAME     send SERVICE_CONTROL_PARAMCHANGE
//   svcctl query NAME           print "state=N win32_exit=N specific_exit=N"
#include <windows.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: svcctl paramchange|query NAME\n");
        return 2;
    }
    SC_HANDLE scm = OpenSCManagerA(nullptr, nullptr, SC_MANAGER_CONNECT);
    if (scm == nullptr) {
        std::fprintf(stderr, "OpenSCManager: %lu\n", GetLastError());
        return 1;
    }
    SC_HANDLE svc = OpenServiceA(scm, argv[2], SERVICE_QUERY_STATUS | SERVICE_PAUSE_CONTINUE);
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
    } else {
        rc = 2;
    }
    std::fflush(stdout);
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}
