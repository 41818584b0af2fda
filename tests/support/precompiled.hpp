// The headers most test files include, compiled once for the unit tests and once for the
// integration tests instead of once per file (tests/CMakeLists.txt says what it saves;
// -DTLSBROKER_PCH=OFF turns it off). Every test file still includes what it uses.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/test_certs.hpp"
#include "support/tls_client.hpp"
#include "support/wait.hpp"
