#pragma once
// JSON string quoting for the reports c10k writes (bench --json, compare's results.json).

#include <string>
#include <string_view>

namespace c10k::core {

/// `text` as a JSON string literal, quotes included; control characters escaped.
std::string json_quote(std::string_view text);

}  // namespace c10k::core
