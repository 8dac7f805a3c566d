#pragma once
// JSON for compare, through nlohmann-json: reading the load generator's c10k-bench/1 report
// (compare runs `c10k bench` as a separate process, see runner.cpp for why) and an earlier
// results.json, and writing results.json.
//
// The readers are lenient about what is missing and strict about what is wrong: a report from an
// older or newer c10k may lack a figure, which then reads as its default (a chain of lookups on a
// missing part yields defaults rather than an exception), but a figure of the wrong type is an
// error that names its key, since a report with a string where a count belongs cannot be trusted.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace c10k::compare {

/// Objects keep the order their members were written in, so results.json reads in the order a
/// person expects (server, size, connections, then the figures), not alphabetically.
using Json = nlohmann::ordered_json;

/// Parses `text`; throws std::runtime_error ("JSON: ..." with the byte offset) when it is not JSON.
Json parse_json(std::string_view text);

/// `document` as text, indented by two spaces. Bytes that are not UTF-8 (a server's log tail
/// quoted in a warning may hold any) are replaced with U+FFFD rather than failing the report.
std::string dump_json(const Json& document);

/// The member `key` of `object`, or null when absent or when `object` is not an object.
const Json& member(const Json& object, std::string_view key);

/// The number at `key`, or `fallback` when absent or null; throws when it is not a number.
double number_at(const Json& object, std::string_view key, double fallback = 0);
/// The number at `key` as a count: rounded, and 0 when absent, null or negative.
std::uint64_t count_at(const Json& object, std::string_view key);
/// The string at `key`, or "" when absent or null; throws when it is not a string.
std::string string_at(const Json& object, std::string_view key);
/// The boolean at `key`, or `fallback` when absent or null; throws when it is not a boolean.
bool boolean_at(const Json& object, std::string_view key, bool fallback = false);

/// `value` rounded to `decimals` places, for figures whose precision beyond that is noise
/// (a p99 to the nanosecond, an RSS to the byte).
double rounded(double value, int decimals);

}  // namespace c10k::compare
