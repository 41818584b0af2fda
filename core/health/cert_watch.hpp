// Watches the certificate, key, CA and CRL files of the running config on a thread of its
// own and picks up changed ones like a reload, without a signal:
// - every `tls.reload_check_s` seconds each file in use is read and fingerprinted (size,
//   mtime, content hash);
// - a changed file must be unchanged across two checks before it is loaded (debounce: an
//   ACME client that writes the certificate, then the key, is seen settled);
// - the settled set is validated like a config load (every block parses, key matches
//   certificate, nothing expired, CRLs parse) before anything is applied; a half-written
//   or mismatched file keeps the running TLS contexts, and is logged (rate-limited) and
//   counted (certificate_reloads_failed) once per content, not at every check;
// - applying goes through the server's reload: new handshakes get the new contexts, live
//   connections keep theirs.
// It also keeps what is loaded for operators: each certificate's expiry (/status, /metrics,
// the per-listener days-left counter), the expiry warnings (expiry_warnings in
// cert_expiry.hpp), and each CRL's nextUpdate: a CRL is re-read at its nextUpdate, and one
// still stale then is counted (crl_stale) and logged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
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
// The checks a config load makes on those files; every problem, "pointer: reason".
std::vector<std::string> validate_tls_files(const config::broker_config& cfg);

class cert_watch {
public:
    cert_watch(cert_watch_hooks hooks, counter_block& total);
    ~cert_watch();
    cert_watch(const cert_watch&) = delete;
    cert_watch& operator=(const cert_watch&) = delete;

    // Reads what the running config uses (synchronously), then checks on its own thread.
    void start();
    // Asks the thread to end (does not wait); stop() also waits for it.
    void request_stop();
    void stop();
    // The server applied another config: take stock of it at once (never blocks).
    void config_changed();

    // For /status: the watcher ("certificate_watch") and one listener's certificates.
    nlohmann::json status() const;
    nlohmann::json certificates(const std::string& listener) const;
    // Prometheus: tlsbroker_certificate_expiry_seconds{listener,name}.
    std::string metrics() const;

private:
    struct cert_entry {
        std::string listener, name;
        std::filesystem::path file;
        leaf_facts leaf;
    };
    struct crl_entry {
        std::filesystem::path file;
        crl_facts facts;
        bool stale_reported = false;
    };

    void run();
    void pass();                                     // one check, on the watcher thread
    void take_stock(const config::config_ptr& cfg);  // what is loaded now
    void look_for_changes(const config::config_ptr& cfg);
    void check_expiry(std::int64_t now);
    bool crl_due(std::int64_t now) const;
    void check_crls(std::int64_t now);
    void refused(const std::vector<std::filesystem::path>& files, const std::vector<std::string>& problems,
                 bool crl_among_them);
    void publish();  // then adds what count() noted
    void count(counter c) { uncounted_.push_back(c); }
    std::chrono::seconds next_wait() const;

    cert_watch_hooks hooks_;
    counter_block& total_;

    // The watcher thread's own state (start() runs before the thread exists).
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

    std::mutex wake_mu_;
    std::condition_variable wake_;
    bool stop_ = false;
    bool kicked_ = false;
    std::thread thread_;
};

}  // namespace tlsbroker::core
