#include "compare/charts.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

namespace c10k::compare {

namespace {

constexpr double kWidth = 760;
constexpr double kHeight = 440;
constexpr double kLeft = 78;
constexpr double kRight = 170;  // room for the legend
constexpr double kTop = 42;
constexpr double kBottom = 58;

/// Twelve colours distinguishable on white (Tableau-like), cycled when there are more lines.
const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939"};

const char* colour(std::size_t i) { return kColours[i % (sizeof kColours / sizeof kColours[0])]; }

std::string number_label(double v) {
    if (v == 0) return "0";
    double a = std::fabs(v);
    if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
    if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
    if (a >= 100) return fmt::format("{:.0f}", v);
    if (a >= 1) return fmt::format("{:g}", std::round(v * 10) / 10);
    return fmt::format("{:.2g}", v);
}

/// 1, 2 or 5 times a power of ten, so that about `target` ticks cover [0, max].
double nice_step(double max, int target) {
    double raw = max / target;
    double power = std::pow(10, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * power >= raw) return m * power;
    }
    return 10 * power;
}

std::string svg_open(const std::string& title) {
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
        "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
        "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{3}</text>\n",
        kWidth, kHeight, kLeft, xml_escape(title));
}

std::string axis_labels(const std::string& x_label, const std::string& y_label) {
    double plot_mid_x = kLeft + (kWidth - kLeft - kRight) / 2;
    double plot_mid_y = kTop + (kHeight - kTop - kBottom) / 2;
    return fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n"
        "<text transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
        plot_mid_x, kHeight - 14, xml_escape(x_label), plot_mid_y, xml_escape(y_label));
}

}  // namespace

std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string render_line_chart(const LineChart& chart) {
    double plot_w = kWidth - kLeft - kRight;
    double plot_h = kHeight - kTop - kBottom;
    std::vector<double> xs;
    double y_max = 0;
    double y_min = 1e300;
    for (const auto& s : chart.series) {
        for (auto [x, y] : s.points) {
            xs.push_back(x);
            y_max = std::max(y_max, y);
            if (y > 0) y_min = std::min(y_min, y);
        }
        for (double x : s.failed_x) xs.push_back(x);
    }
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    xs.erase(std::remove_if(xs.begin(), xs.end(), [](double x) { return !(x > 0); }), xs.end());
    double lx0 = xs.empty() ? 1 : std::log10(xs.front());
    double lx1 = xs.empty() ? 2 : std::log10(xs.back());
    if (lx1 - lx0 < 1e-9) {
        lx0 -= 0.5;
        lx1 += 0.5;
    }
    // A little room on both sides so that end points are not on the frame.
    double pad = (lx1 - lx0) * 0.05;
    lx0 -= pad;
    lx1 += pad;
    auto px = [&](double x) { return kLeft + (std::log10(x) - lx0) / (lx1 - lx0) * plot_w; };

    double ly0 = 0, ly1 = 1, step = 1;
    if (chart.log_y) {
        if (y_min > y_max) y_min = y_max = 1;
        ly0 = std::floor(std::log10(std::max(y_min, 1e-9)));
        ly1 = std::ceil(std::log10(std::max(y_max, 1e-9)));
        if (ly1 <= ly0) ly1 = ly0 + 1;
    } else {
        if (y_max <= 0) y_max = 1;
        step = nice_step(y_max, 5);
        ly1 = std::ceil(y_max / step) * step;
    }
    auto py = [&](double y) {
        double f = chart.log_y ? (std::log10(std::max(y, 1e-9)) - ly0) / (ly1 - ly0) : y / ly1;
        return kTop + plot_h - f * plot_h;
    };

    std::string svg = svg_open(chart.title);
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
                       "stroke=\"#444\"/>\n",
                       kLeft, kTop, plot_w, plot_h);
    // Grid and y ticks.
    std::vector<double> y_ticks;
    if (chart.log_y) {
        for (double e = ly0; e <= ly1 + 1e-9; e += 1) y_ticks.push_back(std::pow(10, e));
    } else {
        for (double v = 0; v <= ly1 + step / 2; v += step) y_ticks.push_back(v);
    }
    for (double v : y_ticks) {
        double y = py(v);
        svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" "
                           "stroke=\"#ddd\"/>\n<text x=\"{3}\" y=\"{4:.1f}\" "
                           "text-anchor=\"end\">{5}</text>\n",
                           kLeft, y, kLeft + plot_w, kLeft - 6, y + 4, number_label(v));
    }
    // x ticks at every x used (the connection counts), on the log scale.
    for (double x : xs) {
        double X = px(x);
        svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
                           "stroke=\"#ddd\"/>\n<text x=\"{0:.1f}\" y=\"{3}\" "
                           "text-anchor=\"middle\">{4}</text>\n",
                           X, kTop, kTop + plot_h, kTop + plot_h + 16, number_label(x));
    }
    svg += axis_labels(chart.x_label + " (log scale)", chart.y_label);

    for (std::size_t i = 0; i < chart.series.size(); ++i) {
        const Series& s = chart.series[i];
        std::string points;
        for (auto [x, y] : s.points) {
            if (!(x > 0)) continue;
            points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", px(x), py(y));
        }
        if (!points.empty()) {
            svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} "
                               "points=\"{}\"/>\n",
                               colour(i), s.dashed ? " stroke-dasharray=\"6,3\"" : "", points);
            for (auto [x, y] : s.points) {
                if (!(x > 0)) continue;
                svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\">"
                                   "<title>{}: {} at {}</title></circle>\n",
                                   px(x), py(y), colour(i), xml_escape(s.name), number_label(y),
                                   number_label(x));
            }
        }
        for (double x : s.failed_x) {
            double X = px(x);
            double Y = kTop + plot_h - 6 - 7 * static_cast<double>(i % 4);
            svg += fmt::format("<path d=\"M{0:.1f},{1:.1f} l8,8 m0,-8 l-8,8\" stroke=\"{2}\" "
                               "stroke-width=\"2\" transform=\"translate(-4,-4)\">"
                               "<title>{3} failed at {4}</title></path>\n",
                               X, Y, colour(i), xml_escape(s.name), number_label(x));
        }
        double ly = kTop + 8 + 18 * static_cast<double>(i);
        double lx = kLeft + plot_w + 14;
        svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" "
                           "stroke-width=\"2\"{4}/>\n<text x=\"{5}\" y=\"{6}\">{7}</text>\n",
                           lx, ly, lx + 22, colour(i),
                           s.dashed ? " stroke-dasharray=\"6,3\"" : "", lx + 28, ly + 4,
                           xml_escape(s.name + (s.failed_x.empty() ? "" : " (\u00d7 failed)")));
    }
    return svg + "</svg>\n";
}

std::string render_bar_chart(const BarChart& chart) {
    double plot_w = kWidth - kLeft - kRight;
    double plot_h = kHeight - kTop - kBottom;
    double y_max = 0;
    for (const auto& row : chart.values) {
        for (double v : row) y_max = std::max(y_max, v);
    }
    if (y_max <= 0) y_max = 1;
    double step = nice_step(y_max, 5);
    double top = std::ceil(y_max / step) * step;
    auto py = [&](double v) { return kTop + plot_h - v / top * plot_h; };
    std::string svg = svg_open(chart.title);
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
                       "stroke=\"#444\"/>\n",
                       kLeft, kTop, plot_w, plot_h);
    for (double v = 0; v <= top + step / 2; v += step) {
        svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" "
                           "stroke=\"#ddd\"/>\n<text x=\"{3}\" y=\"{4:.1f}\" "
                           "text-anchor=\"end\">{5}</text>\n",
                           kLeft, py(v), kLeft + plot_w, kLeft - 6, py(v) + 4, number_label(v));
    }
    std::size_t groups = std::max<std::size_t>(chart.categories.size(), 1);
    std::size_t per_group = std::max<std::size_t>(chart.series_names.size(), 1);
    double group_w = plot_w / static_cast<double>(groups);
    double bar_w = group_w * 0.8 / static_cast<double>(per_group);
    for (std::size_t g = 0; g < chart.categories.size(); ++g) {
        double gx = kLeft + group_w * static_cast<double>(g) + group_w * 0.1;
        for (std::size_t s = 0; s < per_group && g < chart.values.size() &&
                                s < chart.values[g].size();
             ++s) {
            double v = chart.values[g][s];
            if (v <= 0) continue;
            double x = gx + bar_w * static_cast<double>(s);
            svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                               "fill=\"{}\"><title>{} {}: {}</title></rect>\n",
                               x, py(v), bar_w - 1, kTop + plot_h - py(v), colour(s),
                               xml_escape(chart.categories[g]),
                               xml_escape(s < chart.series_names.size() ? chart.series_names[s] : ""),
                               number_label(v));
        }
        double cx = gx + group_w * 0.4;
        svg += fmt::format("<text transform=\"translate({:.1f},{}) rotate(30)\" "
                           "font-size=\"11\">{}</text>\n",
                           cx - 8, kTop + plot_h + 12, xml_escape(chart.categories[g]));
    }
    svg += axis_labels("", chart.y_label);
    for (std::size_t s = 0; s < chart.series_names.size(); ++s) {
        double ly = kTop + 8 + 18 * static_cast<double>(s);
        double lx = kLeft + plot_w + 14;
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{}\"/>\n"
                           "<text x=\"{}\" y=\"{}\">{}</text>\n",
                           lx, ly - 5, colour(s), lx + 20, ly + 4,
                           xml_escape(chart.series_names[s]));
    }
    return svg + "</svg>\n";
}

std::vector<ChartFile> build_charts(const Results& results) {
    struct Metric {
        const char* file;
        const char* caption;
        const char* y_label;
        bool log_y;
        double (*value)(const CellResult&);
    };
    const Metric metrics[] = {
        {"cpu_per_request", "Server CPU per request", "server CPU per request (us)", false,
         [](const CellResult& r) { return r.cpu_us_per_request; }},
        {"p99_latency", "p99 latency (corrected for coordinated omission)", "p99 latency (ms)",
         true, [](const CellResult& r) { return r.p99_us / 1000.0; }},
        {"rss_per_connection", "Server RSS per open connection", "RSS per connection (KiB)",
         false, [](const CellResult& r) { return r.rss_bytes_per_connection / 1024.0; }},
    };
    std::vector<ChartFile> files;
    for (auto size : results.plan.sizes) {
        for (const auto& metric : metrics) {
            LineChart chart;
            chart.title = fmt::format("{}, {}-byte responses, {:g} req/s open loop", metric.caption,
                                      size, results.plan.rate);
            chart.x_label = "connections";
            chart.y_label = metric.y_label;
            chart.log_y = metric.log_y;
            for (const auto& server : results.plan.servers) {
                Series series;
                series.name = server.name;
                series.dashed = server.kind == ServerKind::anchor;
                for (auto n : results.plan.connections) {
                    const CellResult* r = results.find(server.name, size, n);
                    if (r == nullptr) continue;
                    if (r->held) {
                        // A figure that could not be measured (0) is left out, not drawn as 0.
                        double value = metric.value(*r);
                        if (value > 0) series.points.emplace_back(n, value);
                    } else {
                        series.failed_x.push_back(n);
                    }
                }
                chart.series.push_back(std::move(series));
            }
            files.push_back({fmt::format("{}_{}.svg", metric.file, size), chart.title,
                             render_line_chart(chart)});
        }
    }
    BarChart bars;
    bars.title = fmt::format("Maximum throughput, closed loop, {} connections, one server core",
                             results.plan.max_throughput_connections);
    bars.y_label = "requests/s";
    for (auto size : results.plan.sizes) bars.series_names.push_back(fmt::format("{} B", size));
    for (const auto& server : results.plan.servers) {
        bars.categories.push_back(server.name);
        std::vector<double> row;
        for (auto size : results.plan.sizes) {
            const CellResult* r = results.find_max(server.name, size);
            row.push_back(r != nullptr && r->held ? r->rps : 0);
        }
        bars.values.push_back(std::move(row));
    }
    if (results.plan.max_throughput) {
        files.push_back({"max_throughput.svg", bars.title, render_bar_chart(bars)});
    }
    return files;
}

}  // namespace c10k::compare
