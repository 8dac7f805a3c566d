// The SVG chart writer: a well-formed document with the title, axis labels, a legend entry per
// series, points on a logarithmic x axis, and failed cells drawn rather than dropped.

#include <gtest/gtest.h>

#include <regex>

#include "compare/charts.hpp"

namespace c10k::compare {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

/// The cx attribute of every circle, in document order.
std::vector<double> circle_xs(const std::string& svg) {
    std::vector<double> xs;
    std::regex cx("<circle cx=\"([0-9.]+)\"");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cx); it != std::sregex_iterator(); ++it) {
        xs.push_back(std::stod((*it)[1]));
    }
    return xs;
}

LineChart two_lines() {
    LineChart chart;
    chart.title = "CPU per request <128 B>";
    chart.x_label = "connections";
    chart.y_label = "us per request";
    chart.series.push_back({"epoll", {{100, 10}, {1000, 12}, {10000, 14}}, {}, false});
    chart.series.push_back({"select", {{100, 11}}, {10000}, false});
    return chart;
}

TEST(Charts, LineChartIsAnSvgWithTitleLabelsAndLegend) {
    std::string svg = render_line_chart(two_lines());
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_NE(svg.find("CPU per request &lt;128 B&gt;"), std::string::npos);  // escaped
    EXPECT_NE(svg.find("connections (log scale)"), std::string::npos);
    EXPECT_NE(svg.find("us per request"), std::string::npos);
    EXPECT_NE(svg.find(">epoll<"), std::string::npos);
    EXPECT_NE(svg.find("select (\u00d7 failed)"), std::string::npos);
    EXPECT_EQ(count(svg, "<polyline"), 2u);
    EXPECT_EQ(count(svg, "<circle"), 4u);
}

TEST(Charts, XAxisIsLogarithmic) {
    std::string svg = render_line_chart(two_lines());
    auto xs = circle_xs(svg);
    ASSERT_EQ(xs.size(), 4u);
    // 100 -> 1000 and 1000 -> 10000 are the same distance on a log axis.
    EXPECT_NEAR(xs[1] - xs[0], xs[2] - xs[1], 0.2);
    EXPECT_GT(xs[1], xs[0]);
    // Ticks at the x values used.
    EXPECT_NE(svg.find(">10k<"), std::string::npos);
    EXPECT_NE(svg.find(">1000<"), std::string::npos);
}

TEST(Charts, FailedCellsAreMarkedOnTheAxis) {
    std::string svg = render_line_chart(two_lines());
    EXPECT_NE(svg.find("<title>select failed at 10k</title>"), std::string::npos);
}

TEST(Charts, LogYAxisHasDecadeTicks) {
    LineChart chart = two_lines();
    chart.log_y = true;
    chart.series[0].points = {{100, 0.5}, {1000, 30}};
    std::string svg = render_line_chart(chart);
    EXPECT_NE(svg.find(">0.1<"), std::string::npos);
    EXPECT_NE(svg.find(">100<"), std::string::npos);
}

TEST(Charts, BarChartHasABarPerPositiveValue) {
    BarChart chart;
    chart.title = "Maximum throughput";
    chart.y_label = "requests/s";
    chart.series_names = {"128 B", "10240 B"};
    chart.categories = {"epoll", "nginx"};
    chart.values = {{40000, 30000}, {20000, 0}};
    std::string svg = render_bar_chart(chart);
    EXPECT_EQ(count(svg, "<rect x="), 3u + 1 + 2);  // 3 bars, the frame, 2 legend swatches
    EXPECT_NE(svg.find("<title>epoll 128 B: 40k</title>"), std::string::npos);
    EXPECT_NE(svg.find(">nginx<"), std::string::npos);
}

TEST(Charts, BuildChartsDrawsEveryMetricPerSize) {
    Results results;
    results.plan.servers = {{"epoll", ServerKind::engine, "event-driven"},
                            {"nginx", ServerKind::anchor, "event-driven"}};
    results.plan.connections = {100, 1000};
    results.plan.sizes = {128, 10240};
    for (const auto& s : results.plan.servers) {
        for (auto size : results.plan.sizes) {
            for (auto n : results.plan.connections) {
                CellResult r;
                r.cell = {s, size, n, LoadMode::open_loop};
                r.held = true;
                r.cpu_us_per_request = 10;
                r.p99_us = 2000;
                r.rss_bytes_per_connection = 4096;
                results.cells.push_back(r);
            }
            CellResult m;
            m.cell = {s, size, 50, LoadMode::max_throughput};
            m.held = true;
            m.rps = 30000;
            results.cells.push_back(m);
        }
    }
    auto charts = build_charts(results);
    ASSERT_EQ(charts.size(), 7u);  // 3 metrics x 2 sizes + max throughput
    EXPECT_EQ(charts[0].file, "cpu_per_request_128.svg");
    EXPECT_EQ(charts.back().file, "max_throughput.svg");
    // Anchors are dashed.
    EXPECT_NE(charts[0].svg.find("stroke-dasharray"), std::string::npos);
    EXPECT_NE(charts.back().svg.find("<title>nginx 10240 B: 30k</title>"), std::string::npos);
}

}  // namespace
}  // namespace c10k::compare
