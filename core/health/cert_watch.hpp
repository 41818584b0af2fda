// Watches the certificate, key, CA and CRL files of the running config on a timer of the
// broker's control loop and picks up changed ones like a reload, without a signal:
// - every `tls.reload_check_s` seconds each file in use is read and fingerprinted (size,
//   mtime, content hash);
// - a changed file must be unchanged across two checks before it is loaded (debounce: an
//   ACME client that writes the certificate, then the key, is seen settled);
// - the settled set is validated by the config layer's own checks (config/tls_checks.hpp:
//   every block parses, key matches certificate, CRLs parse) before anything is applied;
//   a half-written
//   or mismatched file keeps the running TLS contexts, and is logged (rate-limited) and
//   counted (certificate_reloads_failed) once per content, not at every check;
// - applying goes through the server's reload: new handshakes get the new contexts, live
//   connections keep theirs.
// A certificate that has expired or is not yet valid is no error: its listener serves it and
// is reported degraded (hooks.degraded, logged at error once per check, rate-limited) until a
// renewed file is picked up or the date passes. A switch of certificate is logged with the old
// and new SHA-256 fingerprints; one made by the certificate store (a renewal: a newer
// certificate with the subject) also with the old and new thumbprints, and counted
// (certificate_store_switches).
// It also keeps what is loaded for operators: each certificate's expiry (/status, /metrics,
// the per-listener days-left counter), the expiry warnings (expiry_warnings in
// cert_expiry.hpp), and each CRL's nextUpdate: a CRL is re-read at its nextUpdate, and one
// still stale then is counted (crl_stale) and logged.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/common/counters.hpp"
#include "core/tls/cert_expiry.hpp"

namespace tlsbroker::core {

struct cert_watch_hooks {
    std::function<config::config_ptr()> current;           // the running config
    std::function<std::string(config::config_ptr)> apply;  // reload with it: "" when applied, else why not
    // Whole days left, by listener name (for the listener's counter block).
    std::function<void(const std::map<std::string, std::uint64_t>&)> expiry_days;
    // After every check: the listeners serving a certificate outside its validity period, by
    // name, with why ("certificate FILE (default, CN=…) expired at 2026-…Z"); a listener not
    // named is not degraded. Such a listener keeps serving that certificate (config/README.md).
    std::function<void(const std::map<std::string, std::string>&)> degraded;
};

// The fingerprint of one file as last read.
struct file_fingerprint {
    bool readable = false;
    std::uintmax_t size = 0;
    std::int64_t mtime = 0;
    std::size_t hash = 0;
    bool operator==(const file_fingerprint&) const = default;
};
file_fingerprint fingerprint(const std::filesystem::path& file);

// Every certificate, key, CA and CRL file the config uses, each once.
std::vector<std::filesystem::path> watched_files(const config::broker_config& cfg);
// What a certificate store reference (tls.certificate_store) picks now: its thumbprint stands
// for the content (readable: it picks one).
file_fingerprint store_fingerprint(const config::store_reference& ref);
// The fingerprint of every watched file and of every certificate store reference (keyed by
// its text, "LocalMachine\My subject=…"): a renewal in the store is a change like a file's.
std::map<std::filesystem::path, file_fingerprint> fingerprints(const config::broker_config& cfg);

class cert_watch {
public:
    // Checks run on `ioc` (the broker's control loop): no thread of its own. A check reads and
    // hashes a few small files; only a settled change is parsed and validated, about 2 ms per
    // certificate pair (measured: RSA-2048 or P-256, OpenSSL 3.0; most of it a scratch
    // SSL_CTX), once per renewal. A file on a stalled network share would block the loop; the
    // event-loop monitor would report that.
    cert_watch(boost::asio::io_context& ioc, cert_watch_hooks hooks, counter_block& total);
    ~cert_watch();
    cert_watch(const cert_watch&) = delete;
    cert_watch& operator=(const cert_watch&) = delete;

    // Reads what the running config uses (synchronously), then checks on the loop's timer.
    void start();
    // No check starts after it returns (one running on another thread is waited for); any
    // thread. stop() is the same (kept for the server's destructor).
    void request_stop();
    void stop();
    // The server applied another config: take stock of it at once, on the loop (never blocks;
    // any thread).
    void config_changed();

    // For /status: the watcher ("certificate_watch") and one listener's certificates.
    nlohmann::json status() const;
    nlohmann::json certificates(const std::string& listener) const;
    // Prometheus: tlsbroker_certificate_expiry_seconds{listener,name}.
    std::string metrics() const;

private:
    struct cert_entry {
        std::string listener, name;
        std::filesystem::path file;  // or the certificate store reference's text
        leaf_facts leaf;
        bool store = false;  // from tls.certificate_store
    };
    struct crl_entry {
        std::filesystem::path file;
        crl_facts facts;
        bool stale_reported = false;
    };

    // Guards every check and the timer: a check may run on any of the loop's threads (Windows
    // runs one io_context on all of them), and handlers still queued after the watch is gone
    // find `alive` false.
    struct life {
        std::mutex mu;
        bool alive = true;
    };
    void run_pass();                                 // pass(), logging an exception; with life_->mu held
    void arm();                                      // the next check after next_wait(); with life_->mu held
    void pass();                                     // one check
    void take_stock(const config::config_ptr& cfg);  // what is loaded now
    void look_for_changes(const config::config_ptr& cfg);
    void check_expiry(std::int64_t now);
    void report_degraded(std::int64_t now);                    // listeners outside validity
    void log_switches(const std::vector<cert_entry>& before);  // old and new fingerprints
    bool crl_due(std::int64_t now) const;
    void check_crls(std::int64_t now);
    void refused(const std::vector<std::filesystem::path>& files, const std::vector<std::string>& problems,
                 bool crl_among_them);
    void publish();  // then adds what count() noted
    void count(counter c) { uncounted_.push_back(c); }
    std::chrono::seconds next_wait() const;

    cert_watch_hooks hooks_;
    counter_block& total_;

    // The checks' own state (with life_->mu held).
    config::config_ptr seen_;
    std::map<std::filesystem::path, file_fingerprint> loaded_, last_seen_, refused_;
    std::vector<cert_entry> certs_;
    std::vector<crl_entry> crls_;
    expiry_warnings warnings_;
    std::vector<std::filesystem::path> settling_;
    nlohmann::json last_pickup_ = nullptr;
    std::uint64_t passes_ = 0;
    std::vector<counter> uncounted_;

    // What readers see, copied by publish().
    mutable std::mutex pub_mu_;
    std::vector<cert_entry> pub_certs_;
    nlohmann::json pub_status_ = nlohmann::json::object();

    boost::asio::io_context& ioc_;
    boost::asio::steady_timer timer_;
    std::uint64_t armed_ = 0;  // which arm() the pending wait belongs to
    std::shared_ptr<life> life_ = std::make_shared<life>();
};

}  // namespace tlsbroker::core
