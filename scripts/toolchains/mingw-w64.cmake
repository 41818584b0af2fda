# Cross build for Windows x64 with Debian's MinGW-w64 (POSIX threads flavour), against the
# OpenSSL, Boost and nlohmann/json that scripts/build-windows-deps.sh puts into one prefix.
#
# The prefix, first found wins:
#   -DTLSBROKER_WIN_DEPS_PREFIX=<dir>            (what build-windows-deps.sh prints; the
#                                                 windows preset passes the environment
#                                                 variable of that name, empty = not given)
#   environment TLSBROKER_WIN_DEPS_PREFIX
#   the newest complete OpenSSL 3.5 build of the current recipe under
#   ${TLSBROKER_WIN_DEPS:-$HOME/.cache/tlsbroker/mingw-deps} (the 3.0 baseline that
#   scripts/bench.sh compares with is only used when named)
# Only that prefix (and the MinGW sysroot) is searched for libraries, headers and packages:
# nothing of the Linux build (/usr/include/boost, /usr/lib/x86_64-linux-gnu) can leak in.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

# Keep in step with `recipe=` in scripts/build-windows-deps.sh.
set(_tb_deps_recipe v5)

if(NOT TLSBROKER_WIN_DEPS_PREFIX AND DEFINED ENV{TLSBROKER_WIN_DEPS_PREFIX})
  set(TLSBROKER_WIN_DEPS_PREFIX "$ENV{TLSBROKER_WIN_DEPS_PREFIX}")
endif()
if(NOT TLSBROKER_WIN_DEPS_PREFIX)
  if(DEFINED ENV{TLSBROKER_WIN_DEPS})
    set(_tb_root "$ENV{TLSBROKER_WIN_DEPS}")
  else()
    set(_tb_root "$ENV{HOME}/.cache/tlsbroker/mingw-deps")
  endif()
  file(GLOB _tb_stamps "${_tb_root}/openssl-3.5.*-boost-*-${_tb_deps_recipe}/.complete")
  if(_tb_stamps)
    list(SORT _tb_stamps COMPARE NATURAL ORDER DESCENDING)
    list(GET _tb_stamps 0 _tb_stamp)
    get_filename_component(TLSBROKER_WIN_DEPS_PREFIX "${_tb_stamp}" DIRECTORY)
  endif()
endif()
if(NOT TLSBROKER_WIN_DEPS_PREFIX)
  message(FATAL_ERROR "No MinGW dependency prefix: run scripts/build-windows-deps.sh (it prints "
                      "the prefix), then pass -DTLSBROKER_WIN_DEPS_PREFIX=<prefix> or set it in "
                      "the environment; scripts/build-windows.sh does both.")
endif()
if(NOT EXISTS "${TLSBROKER_WIN_DEPS_PREFIX}/.complete")
  message(FATAL_ERROR "${TLSBROKER_WIN_DEPS_PREFIX} is not a complete dependency build "
                      "(no .complete stamp): run scripts/build-windows-deps.sh")
endif()
file(STRINGS "${TLSBROKER_WIN_DEPS_PREFIX}/.complete" _tb_stamp_recipe REGEX "^recipe ")
if(NOT _tb_stamp_recipe STREQUAL "recipe ${_tb_deps_recipe}")
  message(FATAL_ERROR "${TLSBROKER_WIN_DEPS_PREFIX} was built by another recipe "
                      "('${_tb_stamp_recipe}', this toolchain needs '${_tb_deps_recipe}'; v2 has "
                      "OpenSSL 3.0 without Debian's patches, v1 baked user-creatable OpenSSL folders "
                      "into libcrypto): run scripts/build-windows-deps.sh and use the prefix it prints")
endif()
set(TLSBROKER_WIN_DEPS_PREFIX "${TLSBROKER_WIN_DEPS_PREFIX}" CACHE PATH
    "MinGW builds of OpenSSL, Boost and nlohmann/json (scripts/build-windows-deps.sh)" FORCE)
# A new prefix (new Debian versions or recipe) in an existing build tree: forget every cached
# find result that points into the old one, or the build keeps linking the old libraries.
if(DEFINED CACHE{_TLSBROKER_WIN_DEPS_PREFIX_USED}
   AND NOT _TLSBROKER_WIN_DEPS_PREFIX_USED STREQUAL TLSBROKER_WIN_DEPS_PREFIX)
  message(STATUS "MinGW dependency prefix changed: ${_TLSBROKER_WIN_DEPS_PREFIX_USED} -> "
                 "${TLSBROKER_WIN_DEPS_PREFIX}; dropping cached results that name the old one")
  get_cmake_property(_tb_cache_vars CACHE_VARIABLES)
  foreach(_tb_var IN LISTS _tb_cache_vars)
    if(NOT _tb_var MATCHES "^_?TLSBROKER_WIN_DEPS_PREFIX")
      string(FIND "$CACHE{${_tb_var}}" "${_TLSBROKER_WIN_DEPS_PREFIX_USED}" _tb_at)
      if(_tb_at GREATER -1)
        unset(${_tb_var} CACHE)
      endif()
    endif()
  endforeach()
endif()
set(_TLSBROKER_WIN_DEPS_PREFIX_USED "${TLSBROKER_WIN_DEPS_PREFIX}" CACHE INTERNAL "")
# try_compile projects read this file again: hand them the same prefix.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TLSBROKER_WIN_DEPS_PREFIX)

set(CMAKE_FIND_ROOT_PATH "${TLSBROKER_WIN_DEPS_PREFIX}" /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # host tools (windmc, windres, perl)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# find_package(OpenSSL 3): static libssl.a/libcrypto.a of the prefix.
set(OPENSSL_ROOT_DIR "${TLSBROKER_WIN_DEPS_PREFIX}")
set(OPENSSL_USE_STATIC_LIBS TRUE)
# find_package(Boost 1.81 ...): BoostConfig.cmake of the prefix (b2 layout=system, static
# libraries, static runtime). Never BOOST_LOG_NO_THREADS: it selects another ABI.
set(BOOST_ROOT "${TLSBROKER_WIN_DEPS_PREFIX}")
set(Boost_USE_STATIC_LIBS ON)
set(Boost_USE_STATIC_RUNTIME ON)
set(Boost_NO_SYSTEM_PATHS ON)
# find_package(nlohmann_json 3): the Debian package's files, copied to <prefix>/share/cmake.

# One self-contained exe: no MinGW runtime DLLs (libstdc++, libgcc, winpthread) next to it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# Windows libraries that static OpenSSL, Boost.Asio/Log/Thread need, at the end of every link
# line (a static link resolves left to right), before CMake's default Windows libraries.
set(_tb_win_libs "-lws2_32 -lmswsock -lcrypt32 -lbcrypt -lgdi32 -luser32 -ladvapi32 -lsynchronization")
set(_tb_default_libs "-lkernel32 -lwinspool -lshell32 -lole32 -loleaut32 -luuid -lcomdlg32")
foreach(_lang C CXX)
  set(CMAKE_${_lang}_STANDARD_LIBRARIES "${_tb_win_libs} ${_tb_default_libs}" CACHE STRING
      "Libraries linked by default with all ${_lang} executables (MinGW-w64 toolchain)")
endforeach()
