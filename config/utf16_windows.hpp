// UTF-8 text for the Win32 calls that take UTF-16 (Windows only): one converter for the store
// lookup, the key grant, the installer's steps and the Event Log.
#pragma once

#include <windows.h>

#include <string>

namespace tlsbroker::config {

inline std::wstring widen_utf8(const std::string& s) {
    const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
    std::wstring w(n > 0 ? static_cast<std::size_t>(n) : 0, L'\0');
    if (n > 0) MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
    return w;
}

}  // namespace tlsbroker::config
