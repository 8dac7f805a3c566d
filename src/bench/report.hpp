#pragma once
// The three ways a run is reported: a human summary (wrk's layout plus the percentiles, both
// corrected and uncorrected), JSON with a stable schema (docs/bench.md), and one CSV row per
// run for spreadsheets and plots.

#include <string>

#include "bench/runner.hpp"

namespace c10k::bench {

/// Version of the JSON schema, bumped on any incompatible change.
inline constexpr const char* json_schema_name = "c10k-bench/1";

/// The human-readable summary printed at the end of a run.
std::string format_summary(const BenchReport& report);

/// The report as one JSON object (schema in docs/bench.md).
std::string format_json(const BenchReport& report);

/// The CSV header line (without a newline) matching format_csv_row().
std::string csv_header();
/// One CSV line (without a newline).
std::string format_csv_row(const BenchReport& report);

/// Appends a row to `path`, writing the header first when the file is new or empty. False with
/// a sentence in `error` when the file cannot be written.
bool append_csv(const std::string& path, const BenchReport& report, std::string& error);

/// Escapes a string for a JSON string literal (quotes included).
std::string json_string(const std::string& text);

}  // namespace c10k::bench
