#include "core/tls/resumption_scope.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

namespace tlsbroker::core {

namespace {

struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class hasher {
public:
    hasher() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
            throw std::runtime_error("cannot hash the TLS session scope");
    }
    // Each field is length-prefixed, so that no two different field lists hash alike.
    void field(std::string_view s) {
        const std::uint64_t n = s.size();
        unsigned char len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
        EVP_DigestUpdate(ctx_.get(), len, sizeof len);
        EVP_DigestUpdate(ctx_.get(), s.data(), s.size());
    }
    void file(const std::filesystem::path& p, const char* what) {
        if (p.empty()) return field("");
        std::ifstream in(p, std::ios::binary);
        if (!in.is_open()) throw std::runtime_error(std::string("cannot read ") + what + " " + p.string());
        std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad()) throw std::runtime_error(std::string("cannot read ") + what + " " + p.string());
        field(content);
    }
    resumption_scope finish() {
        resumption_scope out{};
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &n) != 1 || n != out.size())
            throw std::runtime_error("cannot hash the TLS session scope");
        return out;
    }

private:
    std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx_;
};

}  // namespace

resumption_scope scope_for(std::string_view listener_name, const config::tls_config& cfg) {
    hasher h;
    h.field("tlsbroker resumption scope 1");
    h.field(listener_name);
    h.field(config::to_string(cfg.verify_client));
    h.field(std::to_string(cfg.verify_depth));
    h.file(cfg.client_ca, "client_ca");
    h.file(cfg.crl, "crl");
    return h.finish();
}

}  // namespace tlsbroker::core
