#include "core/tls/tls_context.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "config/credentials.hpp"
#include "core/tls/ticket_keys.hpp"

namespace tlsbroker::core {

namespace {

[[noreturn]] void fail(const std::string& what) {
    const auto reason = openssl_error_text();
    throw std::runtime_error(what + (reason.empty() ? "" : ": " + reason));
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

void load_client_verification(SSL_CTX* c, const config::tls_config& cfg) {
    if (cfg.verify_client == config::verify_client_mode::none) return;
    // Fail closed: client verification without trust anchors would admit anyone.
    if (cfg.client_ca.empty()) fail("verify_client needs client_ca");
    if (SSL_CTX_load_verify_locations(c, cfg.client_ca.string().c_str(), nullptr) != 1)
        fail("cannot load client_ca " + cfg.client_ca.string());
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.client_ca.string().c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(c, names);
    if (!cfg.crl.empty()) {
        X509_STORE* store = SSL_CTX_get_cert_store(c);
        if (X509_STORE_load_file(store, cfg.crl.string().c_str()) != 1) fail("cannot load crl " + cfg.crl.string());
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    const int mode = cfg.verify_client == config::verify_client_mode::required
                         ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                         : SSL_VERIFY_PEER;
    SSL_CTX_set_verify(c, mode, nullptr);
    SSL_CTX_set_verify_depth(c, static_cast<int>(cfg.verify_depth));
}

}  // namespace

const char* default_tls_groups() {
    static const char* const groups = [] {
        ssl_ctx_ptr probe(SSL_CTX_new(TLS_server_method()));
        const bool hybrid = probe && SSL_CTX_set1_groups_list(probe.get(), hybrid_tls_groups) == 1;
        ERR_clear_error();
        return hybrid ? hybrid_tls_groups : classic_tls_groups;
    }();
    return groups;
}

std::string openssl_version_text() { return OpenSSL_version(OPENSSL_VERSION); }

std::string openssl_error_text() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return {};
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

bool server_name_matches(const std::string& pattern_in, const std::string& name_in) {
    const auto pattern = lower(pattern_in);
    const auto name = lower(name_in);
    if (pattern.rfind("*.", 0) != 0) return pattern == name;
    const auto dot = name.find('.');
    return dot != std::string::npos && dot > 0 && name.substr(dot) == pattern.substr(1);
}

ssl_ctx_ptr tls_context::make_ctx(const config::tls_config& cfg, const config::certificate_source& source) const {
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* c = ctx.get();
    if (c == nullptr) fail("cannot create TLS context");

    const int min = cfg.min_version == config::tls_min_version::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(c, min) != 1) fail("cannot set min_version");
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_SINGLE_ECDH_USE);
    // One TLS 1.3 ticket per full handshake (OpenSSL's default is two): a reconnecting
    // client needs one, and each ticket costs both sides a sealed session and a record.
    if (tickets_) {
        SSL_CTX_set_num_tickets(c, 1);
        tickets_->attach(c);  // the scope's hourly keys, the previous one kept to decrypt
    } else
        SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    // Whole socket reads instead of a record header and then its body: half the read calls.
    // The relay reads until OpenSSL wants more from the socket, so nothing waits in its buffer.
    SSL_CTX_set_read_ahead(c, 1);
    // Up to four records per socket read (OpenSSL's buffer is released while idle).
    SSL_CTX_set_default_read_buffer_len(c, std::size_t{64} * 1024);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    const auto& ciphers = cfg.ciphers.empty() ? std::string(default_tls12_ciphers) : cfg.ciphers;
    if (SSL_CTX_set_cipher_list(c, ciphers.c_str()) != 1) fail("invalid ciphers '" + ciphers + "'");
    const auto& suites = cfg.ciphersuites.empty() ? std::string(default_tls13_ciphersuites) : cfg.ciphersuites;
    if (SSL_CTX_set_ciphersuites(c, suites.c_str()) != 1) fail("invalid ciphersuites '" + suites + "'");
    const auto& groups = cfg.groups.empty() ? std::string(default_tls_groups()) : cfg.groups;
    if (SSL_CTX_set1_groups_list(c, groups.c_str()) != 1) fail("invalid groups '" + groups + "'");

    // The reader the config check uses: PEM chain and key, PEM with the key in it, or PKCS#12.
    const auto cred = config::read_credentials(source);
    if (!cred.ok()) {
        ERR_clear_error();
        throw std::runtime_error(cred.problems.empty() ? "cannot load certificate " + source.label()
                                                       : cred.problems.front().message);
    }
    if (SSL_CTX_use_certificate(c, cred.leaf.get()) != 1) fail("cannot load certificate " + source.label());
    for (const auto& x : cred.chain)
        if (SSL_CTX_add1_chain_cert(c, x.get()) != 1) fail("cannot load the chain of " + source.label());
    if (SSL_CTX_use_PrivateKey(c, cred.key.get()) != 1) fail("cannot load the private key of " + source.label());
    if (SSL_CTX_check_private_key(c) != 1) fail("the private key does not match certificate " + source.label());

    // Sessions (cached or in tickets) resume only in this scope: OpenSSL compares it.
    if (SSL_CTX_set_session_id_context(c, scope_.data(), scope_.size()) != 1) fail("cannot set session context");
    SSL_CTX_set_session_cache_mode(c, cfg.session_cache_size == 0 ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(c, static_cast<long>(cfg.session_cache_size));
    SSL_CTX_set_timeout(c, static_cast<long>(cfg.session_timeout_s));
    load_client_verification(c, cfg);
    return ctx;
}

tls_context::tls_context(std::string_view listener, const config::tls_config& cfg)
    : scope_(scope_for(listener, cfg)),
      tickets_(cfg.session_tickets ? ticket_keys::for_scope(scope_) : nullptr),
      default_(make_ctx(cfg, cfg.source())),
      refuse_unknown_(cfg.refuse_unknown_sni),
      refuse_missing_(cfg.refuse_missing_sni) {
    for (const auto& s : cfg.sni) {
        named n;
        for (const auto& name : s.server_names) n.names.push_back(lower(name));
        n.ctx = make_ctx(cfg, s.source());
        sni_.push_back(std::move(n));
    }
    if (!sni_.empty() || refuse_unknown_ || refuse_missing_) {
        SSL_CTX_set_tlsext_servername_callback(default_.get(), &tls_context::on_server_name);
        SSL_CTX_set_tlsext_servername_arg(default_.get(), this);
    }
}

tls_context::~tls_context() = default;

SSL_CTX* tls_context::for_name(const std::string& server_name) const {
    const auto name = lower(server_name);
    for (const auto& n : sni_)
        if (std::find(n.names.begin(), n.names.end(), name) != n.names.end()) return n.ctx.get();
    for (const auto& n : sni_)
        for (const auto& p : n.names)
            if (p.rfind("*.", 0) == 0 && server_name_matches(p, name)) return n.ctx.get();
    return nullptr;
}

int tls_context::on_server_name(SSL* ssl, int* alert, void* arg) {
    const auto* self = static_cast<const tls_context*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr) {
        if (!self->refuse_missing_) return SSL_TLSEXT_ERR_NOACK;  // the default certificate serves it
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (SSL_CTX* c = self->for_name(name)) {
        SSL_set_SSL_CTX(ssl, c);
        // SSL_set_SSL_CTX does not copy the verification settings: take them from `c`.
        SSL_set_verify(ssl, SSL_CTX_get_verify_mode(c), nullptr);
        SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(c));
        return SSL_TLSEXT_ERR_OK;
    }
    if (self->refuse_unknown_) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;  // the default certificate serves unknown names
}

}  // namespace tlsbroker::core
