// The SID Windows gives a service ("NT SERVICE\<name>"), computed the way the SCM does:
// S-1-5-80 followed by the SHA-1 of the upper-cased service name in UTF-16LE, read as five
// little-endian 32-bit numbers. Portable (no Win32 call), so the installer can name the
// service in an ACL before the service exists and a Linux unit test can check it.
#pragma once

#include <string>
#include <string_view>

namespace tlsbroker::service {

// `name` is ASCII (service names are); returns "S-1-5-80-a-b-c-d-e".
std::string service_sid(std::string_view name);

}  // namespace tlsbroker::service
