// The broker's configuration: an immutable, validated value.
// config_loader.hpp turns JSON into it; everything else only reads it.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/choices.hpp"

namespace tlsbroker::config {

// "host:port", "[v6]:port". The host may be a name (backends) or a literal address.
struct endpoint {
    std::string host;
    std::uint16_t port = 0;
    std::string text;  // as written in the config, for logs
};

struct log_config {
    std::string level = "info";  // trace, debug, info, warning, error
    std::filesystem::path file;  // empty: console only
    std::uint32_t max_file_mb = 50;
    std::uint32_t keep_files = 10;
    std::uint32_t rate_limit_ms = 10000;  // identical lines within this window fold into one
    std::string format = "text";          // text, json (each line one JSON object)
};

struct status_config {
    bool enabled = true;
    endpoint listen{"127.0.0.1", 8417, "127.0.0.1:8417"};  // 9100 is node_exporter's
    // Names that may appear in Host besides IP literals and "localhost": lower case, no port.
    std::vector<std::string> allowed_hosts;
    std::filesystem::path token_file;         // bearer token for reads; empty: reads are open
    std::filesystem::path reload_token_file;  // bearer token for POST /reload; empty: HTTP reload is off
    std::string token;                        // their contents, read and checked at load
    std::string reload_token;
    std::uint32_t idle_timeout_ms = 5000;  // a connection waiting this long for a request is closed
};

// A certificate in the Windows certificate store (tls.certificate_store, config/cert_store.hpp):
// by thumbprint, or the best valid one with a subject. Unused while both are empty.
struct store_reference {
    std::string location = "LocalMachine";  // or "CurrentUser"
    std::string store = "My";
    std::string thumbprint;  // 40 upper-case hex digits (spaces and colons taken out)
    std::string subject;     // as written: "CN=site01.example"
    bool used() const { return !thumbprint.empty() || !subject.empty(); }
    // For logs and /status: "LocalMachine\My thumbprint=3A4F…" or "LocalMachine\My subject=\"CN=…\"".
    std::string text() const;
};

// Where a certificate and its key come from (config/credentials.hpp reads them): a PEM chain
// and a PEM key, one PEM file holding both, a PKCS#12 (PFX) file (private_key empty), or the
// Windows certificate store (store.used(); the paths are empty).
struct certificate_source {
    std::filesystem::path certificate;
    std::filesystem::path private_key;    // empty: the key is in `certificate`
    std::filesystem::path password_file;  // a PFX's or an encrypted PEM key's password; empty: none
    store_reference store;
    // The certificate's file, or the store reference's text: what messages name.
    std::string label() const { return store.used() ? store.text() : certificate.string(); }
};

// A certificate chosen by the server name the client asks for (SNI).
struct sni_certificate {
    std::vector<std::string> server_names;  // exact ("a.example") or wildcard ("*.b.example")
    std::filesystem::path certificate;
    std::filesystem::path private_key;  // empty: in `certificate`
    std::filesystem::path certificate_password_file;
    store_reference certificate_store;  // used: instead of the files above (Windows only)
    certificate_source source() const {
        return {certificate, private_key, certificate_password_file, certificate_store};
    }
};

struct tls_config {
    std::filesystem::path certificate;  // absolute (resolved against the config folder); the default
    std::filesystem::path private_key;  // empty: in `certificate` (a PFX, or PEM with the key)
    std::filesystem::path certificate_password_file;
    store_reference certificate_store;  // used: instead of the files above (Windows only)
    certificate_source source() const {
        return {certificate, private_key, certificate_password_file, certificate_store};
    }
    std::vector<sni_certificate> sni;  // more certificates, chosen by server name
    bool refuse_unknown_sni = false;   // a name matching no entry fails the handshake
    bool refuse_missing_sni = false;   // a client that sends no name fails the handshake
    std::filesystem::path client_ca;   // mutual TLS: CAs that sign client certificates
    verify_client_mode verify_client = verify_client_mode::none;
    std::filesystem::path crl;  // revoked client certificates (PEM CRLs)
    std::uint32_t verify_depth = 5;
    tls_min_version min_version = tls_min_version::v1_2;
    std::string ciphers;       // TLS 1.2 cipher list; empty: AEAD-only default
    std::string ciphersuites;  // TLS 1.3 suites; empty: core's default order
    std::string groups;        // key exchange groups in preference order; empty: core's
                               // default (X25519MLKEM768 where OpenSSL has it, X25519, P-256)
    bool session_tickets = true;
    std::uint32_t session_cache_size = 20480;
    std::uint32_t session_timeout_s = 7200;
};

struct backend_config {
    endpoint address;
    std::uint32_t connect_timeout_ms = 5000;
};

// Marks a backend down after consecutive connect failures and brings it back.
struct backend_health_config {
    std::uint32_t fail_threshold = 3;     // consecutive failures that mark a backend down
    std::uint32_t cooldown_ms = 10000;    // how long a down backend is skipped
    std::uint32_t check_interval_ms = 0;  // >0: a TCP connect check brings a down backend back early
};

struct source_limits_config {
    std::uint32_t max_connections_per_source = 0;  // 0: off
    std::uint32_t rate_per_source = 0;             // new connections per second per address; 0: off
    std::uint32_t rate_burst = 20;                 // bucket size for rate_per_source
};

// One entry of trusted_proxies: a network in CIDR form ("10.0.0.0/8", "fd00::/8"; a bare
// address is a /32 or /128).
struct cidr {
    std::string text;  // as written, for logs
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  // network address (v4 uses the first 4)
    std::uint8_t prefix = 0;               // 0..32 or 0..128
};

struct timeouts_config {
    std::uint32_t handshake_ms = 10000;
    std::uint32_t idle_ms = 0;  // 0: off
    std::uint32_t write_stall_ms = 60000;
    std::uint32_t drain_ms = 30000;
    std::uint32_t half_close_ms = 30000;     // after one side closed, how long the other may go on
    std::uint32_t connect_total_ms = 30000;  // the walk over every backend, after the handshake
};

struct keepalive_config {
    bool enabled = true;
    std::uint32_t idle_s = 60;
    std::uint32_t interval_s = 10;
    std::uint32_t count = 6;
};

struct listener_config {
    std::string name;
    endpoint listen;
    std::uint32_t backlog = 1024;
    std::uint32_t max_connections = 10000;
    tls_config tls;
    backend_config backend;                // the first of `backends` (kept for old configs)
    std::vector<backend_config> backends;  // never empty once validated
    config::backend_policy backend_policy = config::backend_policy::first;  // first: ordered failover
    backend_health_config backend_health;
    proxy_header proxy_protocol = proxy_header::none;  // the header sent to the backend
    // A PROXY header read from the balancer in front. Only connections from trusted_proxies
    // may send one (and then must); trusted_proxies is never empty unless this is none.
    accept_proxy_mode accept_proxy = accept_proxy_mode::none;
    std::vector<cidr> trusted_proxies;
    source_limits_config source_limits;
    bool connection_log = true;  // one line per closed connection
    timeouts_config timeouts;
    keepalive_config keepalive;
    // SO_RCVBUF and SO_SNDBUF of the client and the backend socket; 0: the system's default
    // (autotuned, megabytes on a busy link). The cap bounds what a peer that stops reading
    // makes the broker move before the write stall shows, and the kernel memory each
    // connection can pin. Windows: 64 KiB (under Wine, 256 KiB made the stalled writers' sends
    // churn through Wine's server and starve accepts; see core/README.md, "Choices measured").
#ifdef _WIN32
    std::uint32_t socket_buffer_bytes = 64 * 1024;
#else
    std::uint32_t socket_buffer_bytes = 256 * 1024;
#endif
};

struct watchdog_config {
    bool enabled = true;
    std::uint32_t interval_ms = 1000;         // invariant and queue-depth checks
    std::uint32_t probe_interval_ms = 10000;  // canary connect to each listener
    std::uint32_t probe_timeout_ms = 2000;    // the acceptor must take a probe within this
    std::uint32_t heartbeat_ms = 2000;        // an event-loop handler may block at most this
    unrecoverable_action on_unrecoverable = unrecoverable_action::exit;
};

// Broker-wide TLS settings (the top-level "tls" object).
struct tls_watch_config {
    // Certificate, key, CA and CRL files are checked for changes this often and picked up
    // like a reload; 0: not watched (expiry and CRL nextUpdate are still checked hourly).
    std::uint32_t reload_check_s = 60;
};

struct broker_config {
    std::uint32_t threads = 0;  // as written; 0 means one per core
    log_config log;
    tls_watch_config tls;
    status_config status;
    watchdog_config watchdog;
    std::vector<listener_config> listeners;
    std::filesystem::path source;  // the file it came from (empty when parsed from text)

    // Worker threads to run: `threads`, or the number of cores when it is 0.
    std::uint32_t effective_threads() const;
};

using config_ptr = std::shared_ptr<const broker_config>;

}  // namespace tlsbroker::config
