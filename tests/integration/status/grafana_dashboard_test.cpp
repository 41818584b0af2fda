// The shipped Grafana dashboard (installer/grafana-dashboard.json) queries only metrics that a
// running broker's /metrics has: every metric name in every PromQL expression (panels and
// template variables) is a sample name of a scrape, and the labels it filters or groups by
// are labels of that metric.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "support/broker_harness.hpp"
#include "support/echo_backend.hpp"
#include "support/prometheus_parser.hpp"
#include "support/tls_client.hpp"

using namespace tlsbroker;

namespace {

nlohmann::json dashboard() {
    std::ifstream f(std::string(TLSBROKER_SOURCE_DIR) + "/installer/grafana-dashboard.json");
    return nlohmann::json::parse(f);
}

// Every PromQL expression: panel targets' "expr" and query variables' "query".
void expressions(const nlohmann::json& j, std::vector<std::string>& out) {
    if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
            if (v.is_string() && (k == "expr" || (k == "query" && v.get<std::string>().find('(') != std::string::npos)))
                out.push_back(v.get<std::string>());
            else
                expressions(v, out);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) expressions(v, out);
    }
}

}  // namespace

TEST(grafana_dashboard, every_queried_metric_and_label_is_in_a_scrape) {
    const auto dash = dashboard();
    ASSERT_TRUE(dash.contains("panels"));
    std::vector<std::string> exprs;
    expressions(dash, exprs);
    ASSERT_GE(exprs.size(), 30u);

    test::echo_backend backend;
    test::broker_harness broker(backend.port());
    ASSERT_TRUE(test::round_trip(broker.port(), "grafana"));  // handshake, connect, session samples
    int status = 0;
    const auto doc = test::parse_prometheus(test::http_get(broker.status_port(), "/metrics", status));
    ASSERT_EQ(status, 200);
    ASSERT_TRUE(doc.ok()) << doc.errors.front();
    // Sample names and the labels each carries ("instance" is Prometheus's own).
    std::map<std::string, std::set<std::string>> labels;
    for (const auto& [family, f] : doc.families)
        for (const auto& s : f.samples) {
            auto& l = labels[s.name];
            l.insert("instance");
            for (const auto& [k, v] : s.labels) l.insert(k);
        }

    const std::regex metric(R"(\b((?:tlsbroker|process)_[a-z0-9_]+)(\{[^}]*\})?)");
    const std::regex label(R"re(([a-z_]+)\s*(?:=~|!~|!=|=)\s*")re");
    const std::regex grouping(R"(\bby \(([^)]*)\))");
    std::size_t checked = 0;
    for (const auto& e : exprs) {
        std::set<std::string> used;
        for (std::sregex_iterator it(e.begin(), e.end(), metric), end; it != end; ++it) {
            const auto name = (*it)[1].str();
            used.insert(name);
            ++checked;
            ASSERT_TRUE(labels.contains(name)) << name << " is not in /metrics (expression: " << e << ")";
            const auto selector = (*it)[2].str();
            for (std::sregex_iterator l(selector.begin(), selector.end(), label), lend; l != lend; ++l)
                EXPECT_TRUE(labels[name].contains((*l)[1].str())) << name << " has no label " << (*l)[1] << ": " << e;
        }
        // Labels it groups by belong to one of the metrics it reads.
        for (std::sregex_iterator g(e.begin(), e.end(), grouping), end; g != end; ++g) {
            std::istringstream by((*g)[1].str());
            for (std::string l; std::getline(by, l, ',');) {
                l.erase(0, l.find_first_not_of(' '));
                bool found = false;
                for (const auto& m : used) found = found || labels[m].contains(l);
                EXPECT_TRUE(found) << "grouping by " << l << " in " << e;
            }
        }
    }
    EXPECT_GE(checked, 40u);
}
