// The platform as constants, for the few choices that are one value here and another there
// (each explained where it is used). Code that differs is in files named for their platform:
// *_posix.cpp, *_linux.cpp, *_windows.cpp, *_iocp.cpp (core/CMakeLists.txt picks them).
#pragma once

namespace tlsbroker::core {

#ifdef _WIN32
inline constexpr bool on_windows = true;
#else
inline constexpr bool on_windows = false;
#endif

#ifdef __linux__
inline constexpr bool on_linux = true;
#else
inline constexpr bool on_linux = false;
#endif

}  // namespace tlsbroker::core
