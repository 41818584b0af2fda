// A strict parser of the Prometheus text exposition format 0.0.4, for tests: it rejects what
// promtool's parser rejects (bad names, bad escapes, a second # TYPE, samples before their
// # TYPE or apart from their family's other samples, a repeated series, an unknown type) and
// also checks every histogram: `le` on each bucket, bounds ascending and ending at +Inf,
// cumulative counts that never fall, `_count` equal to the +Inf bucket and a `_sum`.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tlsbroker::test {

struct prom_sample {
    std::string name;  // the sample's own name (with _bucket, _sum or _count for a histogram)
    std::map<std::string, std::string> labels;
    double value = 0;
};

struct prom_family {
    std::string type;  // counter, gauge, histogram, summary, untyped
    std::string help;
    std::vector<prom_sample> samples;
};

struct prom_document {
    std::map<std::string, prom_family> families;
    std::vector<std::string> errors;  // empty when the text is valid; each names its line

    bool ok() const { return errors.empty(); }
    // The value of the one sample named `name` whose labels include `labels`; NaN when none.
    double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

prom_document parse_prometheus(const std::string& text);

}  // namespace tlsbroker::test
