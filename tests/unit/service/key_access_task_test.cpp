// The scheduled task the MSI registers with a store certificate (service/windows/
// key_access_task.hpp): SYSTEM as its principal, the certificate lifecycle events as its
// trigger, and the grant as its action, with both paths escaped for XML. The Wine suite checks
// that schtasks takes it (tests/windows/cert-store.sh).
#include "service/windows/key_access_task.hpp"

#include <gtest/gtest.h>

#include <string>

using tlsbroker::service::key_access_task_xml;

namespace {

// The text of the first <tag …>…</tag>, or "(missing)".
std::string element(const std::string& xml, const std::string& tag) {
    auto open = xml.find("<" + tag + ">");
    if (open == std::string::npos) open = xml.find("<" + tag + " ");
    const auto close = xml.find("</" + tag + ">");
    if (open == std::string::npos || close == std::string::npos || close < open) return "(missing)";
    const auto from = xml.find('>', open) + 1;
    return xml.substr(from, close - from);
}

}  // namespace

TEST(key_access_task, runs_the_grant_as_system_on_certificate_lifecycle_events) {
    const auto xml = key_access_task_xml(R"(C:\Program Files\tlsbroker\tlsbroker.exe)",
                                         R"(C:\ProgramData\tlsbroker\tlsbroker.json)");
    EXPECT_EQ(element(xml, "UserId"), "S-1-5-18");
    EXPECT_EQ(element(xml, "Command"), R"(C:\Program Files\tlsbroker\tlsbroker.exe)");
    EXPECT_EQ(element(xml, "Arguments"), R"(--grant-key-access &quot;C:\ProgramData\tlsbroker\tlsbroker.json&quot;)");
    const auto subscription = element(xml, "Subscription");
    EXPECT_NE(subscription.find("Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"),
              std::string::npos);
    EXPECT_NE(subscription.find("EventID=1001 or EventID=1006"), std::string::npos) << subscription;
    // The subscription is XML inside an element: no raw markup in it.
    EXPECT_EQ(subscription.find('<'), std::string::npos) << subscription;
    EXPECT_NE(subscription.find("&lt;QueryList&gt;"), std::string::npos);
    EXPECT_NE(xml.find("<BootTrigger>"), std::string::npos);
    EXPECT_EQ(element(xml, "ExecutionTimeLimit"), "PT5M");
    // One element per opening tag: a quick check that nothing was cut.
    for (const char* tag : {"Task", "Triggers", "EventTrigger", "Principals", "Settings", "Actions", "Exec"})
        EXPECT_NE(element(xml, tag), "(missing)") << tag;
}

TEST(key_access_task, escapes_markup_in_paths) {
    const auto xml = key_access_task_xml(R"(C:\A&B <x>\tlsbroker.exe)", R"(C:\Data "q"\tlsbroker.json)");
    EXPECT_EQ(element(xml, "Command"), R"(C:\A&amp;B &lt;x&gt;\tlsbroker.exe)");
    EXPECT_EQ(element(xml, "Arguments"), R"(--grant-key-access &quot;C:\Data &quot;q&quot;\tlsbroker.json&quot;)");
}
