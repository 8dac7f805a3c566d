#pragma once
// The compare report: results.json, results.csv, the SVG charts, index.html that embeds them
// with the table and the claims, and summary.txt (also printed on stdout).

#include <string>
#include <vector>

#include "compare/charts.hpp"
#include "compare/claims.hpp"
#include "compare/results.hpp"

namespace c10k::compare {

/// The plain-text summary: per size, one row per server with CPU per request and p99 at each
/// connection count (FAIL where the cell failed), the failures with reasons, then the claims.
std::string format_summary(const Results& results, const std::vector<Claim>& claims);

/// index.html: machine, kernel and commit; the charts inline; the full table; the claims.
std::string format_html(const Results& results, const std::vector<Claim>& claims,
                        const std::vector<ChartFile>& charts);

/// Writes every report file into `dir` (created if needed) and returns the summary text.
/// Throws std::runtime_error when a file cannot be written.
std::string write_report(const std::string& dir, const Results& results);

}  // namespace c10k::compare
