#pragma once
// JSON string quoting for the text c10k writes a piece at a time with fmt: bench --json, the
// metrics and status pages, push messages, the demo's scoreboard. Those writers format numbers
// straight into the text on hot or simple paths, where building a document first would only add
// allocations. compare's results.json, a document built whole and read back, uses nlohmann-json
// instead (compare/json.hpp).

#include <string>
#include <string_view>

namespace c10k::core {

/// `text` as a JSON string literal, quotes included; control characters escaped.
std::string json_quote(std::string_view text);

}  // namespace c10k::core
