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

/// The overload, disk or caching section of summary.txt (also shown in index.html); empty
/// for the matrix.
std::string experiment_summary(const Results& results);
/// The charts of a non-matrix experiment: goodput and p99 of 200s against offered load
/// (overload), p99 bars idle vs cold reads (disk), CPU bars per variant (caching).
std::vector<ChartFile> experiment_charts(const Results& results);

/// Writes every report file into `dir` (created if needed) and returns the summary text.
/// Throws std::runtime_error when a file cannot be written.
std::string write_report(const std::string& dir, const Results& results);

}  // namespace c10k::compare
