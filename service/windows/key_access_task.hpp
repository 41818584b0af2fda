// The scheduled task that keeps a renewed store certificate's key readable by the service
// (service/README.md, "Installing with a store certificate"): as SYSTEM, on events 1001 (a
// certificate replaced) and 1006 (a new certificate installed) of the certificate lifecycle
// channel, and at boot, it runs `tlsbroker.exe --grant-key-access CONFIG`, which grants the new
// key and has the running service reload. The task's XML is a pure function (Linux unit tests
// check it); registering it is Win32 (key_access.cpp).
#pragma once

#include <ostream>
#include <string>

namespace tlsbroker::service {

// The task's name in Task Scheduler (folder \tlsbroker).
inline constexpr const char* key_access_task_name = "tlsbroker\\Grant key access";

// The Task Scheduler XML (schema 1.2) for `exe` --grant-key-access "`config`"; both paths are
// escaped for XML.
std::string key_access_task_xml(const std::string& exe, const std::string& config);

// Windows: when `config` names a store certificate, writes the XML next to it and registers it
// with schtasks (replacing a task of that name), then removes the file; otherwise registers
// nothing. Returns 0 (registered, or not needed), schtasks' exit code, or 1 with a message to
// `err` when the config does not load or schtasks could not run.
int register_key_access_task(const std::string& config, std::ostream& out, std::ostream& err);

}  // namespace tlsbroker::service
