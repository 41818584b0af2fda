// The JSON document as written: parsing (with line and column on a syntax error, and
// duplicate keys reported) and the order in which problems are listed.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "config/json_reader.hpp"
#include "config/loader.hpp"

namespace tlsbroker::config {

// The parsed document, or nothing with the syntax error added to `errors`.
// A key written twice in one object is an error (JSON would silently keep the last).
std::optional<json> parse_document(std::string_view text, std::vector<config_error>& errors);

// Orders `errors` as their pointers appear in `doc`. A missing key sorts at the end of
// the object that lacks it; errors on the same place keep the order they were found in.
void sort_in_document_order(const json& doc, std::vector<config_error>& errors);

}  // namespace tlsbroker::config
