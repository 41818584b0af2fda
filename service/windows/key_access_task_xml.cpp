#include "service/windows/key_access_task.hpp"

namespace tlsbroker::service {

namespace {

std::string escaped(const std::string& s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

}  // namespace

std::string key_access_task_xml(const std::string& exe, const std::string& config) {
    const std::string channel = "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational";
    // The event subscription is itself XML inside an element: escaped once more.
    const std::string query = "<QueryList><Query Id=\"0\" Path=\"" + channel + "\"><Select Path=\"" + channel +
                              "\">*[System[(EventID=1001 or EventID=1006)]]</Select></Query></QueryList>";
    return "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n"
           "<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\n"
           "  <RegistrationInfo>\n"
           "    <Description>tlsbroker: gives the service read access to the key of a renewed certificate "
           "and has it reload</Description>\n"
           "  </RegistrationInfo>\n"
           "  <Triggers>\n"
           "    <EventTrigger>\n"
           "      <Enabled>true</Enabled>\n"
           "      <Subscription>" +
           escaped(query) +
           "</Subscription>\n"
           "    </EventTrigger>\n"
           "    <BootTrigger>\n"
           "      <Enabled>true</Enabled>\n"
           "    </BootTrigger>\n"
           "  </Triggers>\n"
           "  <Principals>\n"
           "    <Principal id=\"System\">\n"
           "      <UserId>S-1-5-18</UserId>\n"
           "      <RunLevel>HighestAvailable</RunLevel>\n"
           "    </Principal>\n"
           "  </Principals>\n"
           "  <Settings>\n"
           "    <MultipleInstancesPolicy>Queue</MultipleInstancesPolicy>\n"
           "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
           "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
           "    <StartWhenAvailable>true</StartWhenAvailable>\n"
           "    <ExecutionTimeLimit>PT5M</ExecutionTimeLimit>\n"
           "    <Enabled>true</Enabled>\n"
           "  </Settings>\n"
           "  <Actions Context=\"System\">\n"
           "    <Exec>\n"
           "      <Command>" +
           escaped(exe) +
           "</Command>\n"
           "      <Arguments>" +
           escaped("--grant-key-access \"" + config + "\"") +
           "</Arguments>\n"
           "    </Exec>\n"
           "  </Actions>\n"
           "</Task>\n";
}

}  // namespace tlsbroker::service
