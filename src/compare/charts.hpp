#pragma once
// Self-made SVG charts for the compare report: line charts with a logarithmic x axis (the
// connection counts span 100 to 15,000) and grouped bar charts, with axis labels and a legend.
// No plotting dependency: the report must draw on a machine that has only the c10k binary.

#include <string>
#include <utility>
#include <vector>

#include "compare/results.hpp"

namespace c10k::compare {

/// One line of a line chart. `failed_x` are x positions where the cell failed: they are drawn
/// as crosses on the x axis in the line's colour, so a failure is visible and not just a gap.
struct Series {
    std::string name;
    std::vector<std::pair<double, double>> points;  ///< (x, y), x > 0 when the x axis is log
    std::vector<double> failed_x;
    bool dashed = false;  ///< anchors are dashed, c10k's engines solid
};

struct LineChart {
    std::string title;
    std::string x_label;
    std::string y_label;
    bool log_y = false;
    std::vector<Series> series;
};

/// Bars grouped by category (a server), one bar per series (a response size).
struct BarChart {
    std::string title;
    std::string y_label;
    std::vector<std::string> series_names;
    std::vector<std::string> categories;
    std::vector<std::vector<double>> values;  ///< values[category][series]; <= 0: no bar
};

/// The SVG document of a line chart; the x axis is logarithmic with a tick at every x used.
std::string render_line_chart(const LineChart& chart);
/// The SVG document of a grouped bar chart, each bar labelled with its value.
std::string render_bar_chart(const BarChart& chart);

/// A chart of the report: its file name in the output folder, a caption, and the SVG.
struct ChartFile {
    std::string file;
    std::string caption;
    std::string svg;
};

/// The report's charts: for every size, CPU per request, p99 latency and RSS per connection
/// against connections, and one maximum-throughput bar chart.
std::vector<ChartFile> build_charts(const Results& results);

/// Text escaped for XML/HTML content and attributes.
std::string xml_escape(const std::string& text);

}  // namespace c10k::compare
