// The one writer of the Prometheus text exposition (format 0.0.4) used by every /metrics
// emitter: the counter table, the histograms, the process metrics, the backends and the
// certificates. It owns the format's rules: a family's # HELP and # TYPE come once, before
// its samples; help text escapes backslash and line feed; label values escape backslash,
// double quote and line feed; numbers are integers where they are whole, +Inf/-Inf/NaN
// otherwise as the format spells them; a histogram is cumulative `_bucket{le}` samples
// ending at le="+Inf", then `_sum` and `_count`.
//
// Why not prometheus-cpp: it would be a new dependency to cross-build and ship with the
// Windows service, with its own registry, locking and object model, to render a text format
// we already render from our own counter table; the table stays the one source that
// /status and the Windows perf counters also read, and this writer is a few dozen lines.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

namespace tlsbroker::core {

enum class metric_type { counter, gauge, histogram };

// A label set being built: `add` escapes the value; `raw` appends pairs already formatted
// (`result="ok"`, from the counter table, whose values need no escaping).
class metric_labels {
public:
    metric_labels& add(std::string_view name, std::string_view value);
    metric_labels& raw(std::string_view formatted);
    const std::string& text() const { return text_; }
    bool empty() const { return text_.empty(); }

private:
    std::string text_;
};

class prometheus_text {
public:
    // Starts a family. A name already started is a programming error: it is ignored and its
    // samples are still written, so a test's strict parser reports the duplicate.
    void family(std::string_view name, std::string_view help, metric_type type);
    void sample(std::string_view name, const metric_labels& labels, std::uint64_t value);
    void sample(std::string_view name, const metric_labels& labels, double value);
    void sample(std::string_view name, const metric_labels& labels, std::string_view formatted_value);
    // The samples of one histogram: `bounds` are the buckets' upper bounds, `counts` the
    // observations per bucket (not cumulative) with one more entry for above the last
    // bound; bounds and sum are divided by `divisor` into the family's unit (1e6: µs to
    // seconds; a division, so 1000 µs is written 0.001 and not 0.0010000000000000002).
    void histogram(std::string_view name, const metric_labels& labels, std::span<const std::uint64_t> bounds,
                   std::span<const std::uint64_t> counts, std::uint64_t sum, double divisor);
    // Appends text another writer produced (its families must not repeat ours).
    void append(std::string_view text) { out_ += text; }

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
    std::unordered_set<std::string> families_;
};

// A number as the text format writes it: whole values without a fraction, the shortest
// round-trip form otherwise, and +Inf, -Inf, NaN.
std::string format_metric_value(double v);

// Escapes a label value for the text format: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);

}  // namespace tlsbroker::core
