#include "core/status/prometheus_text.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace tlsbroker::core {

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        switch (ch) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += ch;
        }
    }
    return out;
}

std::string format_metric_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    std::array<char, 64> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return std::string(buf.data(), res.ptr);
}

metric_labels& metric_labels::add(std::string_view name, std::string_view value) {
    if (!text_.empty()) text_ += ',';
    text_ += name;
    text_ += "=\"";
    text_ += escape_label_value(value);
    text_ += '"';
    return *this;
}

metric_labels& metric_labels::raw(std::string_view formatted) {
    if (formatted.empty()) return *this;
    if (!text_.empty()) text_ += ',';
    text_ += formatted;
    return *this;
}

void prometheus_text::family(std::string_view name, std::string_view help, metric_type type) {
    if (!families_.emplace(name).second) return;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (const char ch : help) {
        if (ch == '\\')
            out_ += "\\\\";
        else if (ch == '\n')
            out_ += "\\n";
        else
            out_ += ch;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += type == metric_type::counter ? " counter\n" : type == metric_type::gauge ? " gauge\n" : " histogram\n";
}

void prometheus_text::sample(std::string_view name, const metric_labels& labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
        out_ += '{';
        out_ += labels.text();
        out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
}

void prometheus_text::sample(std::string_view name, const metric_labels& labels, std::uint64_t value) {
    sample(name, labels, std::string_view(std::to_string(value)));
}

void prometheus_text::sample(std::string_view name, const metric_labels& labels, double value) {
    sample(name, labels, std::string_view(format_metric_value(value)));
}

void prometheus_text::histogram(std::string_view name, const metric_labels& labels,
                                std::span<const std::uint64_t> bounds, std::span<const std::uint64_t> counts,
                                std::uint64_t sum, double divisor) {
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds.size() && i < counts.size(); ++i) {
        cumulative += counts[i];
        auto with_le = labels;
        with_le.add("le", i < bounds.size() ? format_metric_value(static_cast<double>(bounds[i]) / divisor) : "+Inf");
        sample(bucket, with_le, cumulative);
    }
    sample(std::string(name) + "_sum", labels, static_cast<double>(sum) / divisor);
    sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace tlsbroker::core
