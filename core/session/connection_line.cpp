#include "core/session/connection_line.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>

namespace tlsbroker::core {

namespace {

bool bare(std::string_view v) {
    return !v.empty() && std::ranges::none_of(v, [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=';
    });
}

}  // namespace

void append_log_field(std::string& line, std::string_view key, std::string_view value, bool quote) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    if (value.empty()) {
        line += '-';
        return;
    }
    if (!quote && bare(value)) {
        line += value;
        return;
    }
    line += '"';
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            line += '\\';
            line += ch;
        } else if (c < 0x20 || c == 0x7f) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            line += buf;
        } else {
            line += ch;
        }
    }
    line += '"';
}

std::string tls_version_text(int version) {
    switch (version) {
        case 0:
            return "-";
        case TLS1_VERSION:
            return "1.0";
        case TLS1_1_VERSION:
            return "1.1";
        case TLS1_2_VERSION:
            return "1.2";
        case TLS1_3_VERSION:
            return "1.3";
        default:
            return "unknown";
    }
}

std::string short_tls_reason(unsigned long e) {
    if (e == 0) return "unknown";
    if (ERR_SYSTEM_ERROR(e)) return "system_error";
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        return "certificate_required";
    const char* text = ERR_reason_error_string(e);
    if (text == nullptr) return "unknown";
    std::string out;
    for (const char* p = text; *p != '\0'; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out += static_cast<char>(c);
        else if (c >= 'A' && c <= 'Z')
            out += static_cast<char>(c - 'A' + 'a');
        else if (!out.empty() && out.back() != '_')
            out += '_';
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    return out.empty() ? "unknown" : out;
}

}  // namespace tlsbroker::core
