#include "core/common/local_time.hpp"

namespace tlsbroker::core {

void local_time(std::time_t t, std::tm& out) { ::localtime_r(&t, &out); }

}  // namespace tlsbroker::core
