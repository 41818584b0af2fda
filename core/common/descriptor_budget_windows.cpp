// The descriptor limit on Windows: there is no per-process limit on sockets to raise.
#include "core/common/descriptor_budget.hpp"

namespace tlsbroker::core {

descriptor_budget fit_descriptor_limit(std::uint64_t needed) {
    descriptor_budget b;
    b.needed = needed;
    return b;
}

}  // namespace tlsbroker::core
