# Cross build for Windows x64 with Debian's MinGW-w64 (POSIX threads flavour), against the
# OpenSSL and Boost that scripts/build-windows-deps.sh builds. Pass the prefix it prints as
# -DTLSBROKER_WIN_DEPS_PREFIX=… (or in the environment variable of the same name).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

if(NOT TLSBROKER_WIN_DEPS_PREFIX AND DEFINED ENV{TLSBROKER_WIN_DEPS_PREFIX})
  set(TLSBROKER_WIN_DEPS_PREFIX "$ENV{TLSBROKER_WIN_DEPS_PREFIX}")
endif()
if(NOT TLSBROKER_WIN_DEPS_PREFIX)
  message(FATAL_ERROR "TLSBROKER_WIN_DEPS_PREFIX is not set: run scripts/build-windows.sh, "
                      "or scripts/build-windows-deps.sh and pass the prefix it prints")
endif()
set(TLSBROKER_WIN_DEPS_PREFIX "${TLSBROKER_WIN_DEPS_PREFIX}" CACHE PATH "MinGW builds of OpenSSL and Boost")

set(CMAKE_FIND_ROOT_PATH "${TLSBROKER_WIN_DEPS_PREFIX}" /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(OPENSSL_ROOT_DIR "${TLSBROKER_WIN_DEPS_PREFIX}")
set(OPENSSL_USE_STATIC_LIBS TRUE)
set(Boost_USE_STATIC_LIBS ON)
set(Boost_USE_STATIC_RUNTIME ON)
set(BOOST_ROOT "${TLSBROKER_WIN_DEPS_PREFIX}")

# One self-contained exe: no MinGW runtime DLLs next to it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
