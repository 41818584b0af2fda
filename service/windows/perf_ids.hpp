// The perf counter provider's identity, shared by the code and its manifest
// (installer/tlsbroker.man); a unit test checks the manifest against these and the counter table.
#pragma once

namespace tlsbroker::service::perf_ids {

inline constexpr const char* provider_guid = "{7D4A3A5E-2C1B-4F7E-9A61-3B5C0E2D8F10}";
inline constexpr const char* counterset_guid = "{0C3E9B7A-5D21-4B8F-A6E4-91F2D3C4B5A6}";
inline constexpr const char* counterset_name = "TLS Broker";

}  // namespace tlsbroker::service::perf_ids
