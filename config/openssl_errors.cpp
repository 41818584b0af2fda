#include "config/openssl_errors.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace tlsbroker::config {

std::string openssl_reason(const char* what_was_expected) {
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
        return std::string("no PEM ") + what_was_expected + " found";
    const char* r = ERR_reason_error_string(e);
    return r != nullptr ? r : "OpenSSL error " + std::to_string(e);
}

bool pem_no_start_line() {
    const unsigned long e = ERR_peek_last_error();
    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

}  // namespace tlsbroker::config
