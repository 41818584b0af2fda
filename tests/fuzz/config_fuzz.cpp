// The config loader on arbitrary bytes: it never crashes or throws, and every rejection
// is a clear error with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto r = tlsbroker::config::load_text(text, "/nonexistent-fuzz-dir");
    if (r.ok() != (r.config != nullptr)) std::abort();
    for (const auto& e : r.errors)
        if (e.message.empty() || e.to_string().empty()) std::abort();
    return 0;
}
