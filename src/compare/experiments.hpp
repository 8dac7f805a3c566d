#pragma once
// The experiments beside the matrix (docs/COMPARE.md): overload (goodput while the offered load
// ramps past the measured capacity), disk (cached requests while cold reads are in flight) and
// caching (the response cache and sendfile switched off at low and high concurrency). This
// file holds what can be decided without running anything: which servers in which variants,
// the ramp's rates, and the arithmetic the reports and claims share; experiment_runner.cpp
// runs them.

#include <optional>
#include <string>
#include <vector>

#include "compare/matrix.hpp"
#include "compare/results.hpp"
#include "compare/runner.hpp"

namespace c10k::compare {

/// The overload experiment's engines when --engines is not given: the readiness loop and the
/// staged engine, the two whose overload control docs/OVERLOAD.md describes.
inline const std::vector<std::string> kOverloadEngines{"epoll", "staged"};
/// The URL prefix `c10k serve --synthetic-cost` answers in the overload experiment.
inline constexpr const char* kCostPrefix = "/cost";

/// The servers and defaults of a non-matrix experiment. Anchors that cannot take part are
/// notes with the reason, never silently dropped.
Plan make_experiment_plan(const PlanOptions& options,
                          const std::vector<std::string>& available_engines,
                          bool (*anchor_installed)(const std::string& name));

/// A rough wall-clock estimate of a non-matrix plan.
double experiment_estimated_seconds(const Plan& plan);

/// Offered loads of the ramp: `capacity` times each factor, in the factors' order. Empty when
/// the capacity is not positive (the capacity cell failed: there is nothing to ramp over).
std::vector<double> ramp_rates(double capacity, const std::vector<double>& factors);

/// One point of a goodput curve.
struct GoodputPoint {
    double load_factor = 0;
    double offered_rps = 0;
    double good_rps = 0;   ///< 200s within the deadline, per second
    double ok_p99_us = 0;  ///< p99 of the 200s (admitted requests)
    bool measured = false;
};

/// The ramp of one server variant, ordered by load factor.
std::vector<GoodputPoint> goodput_curve(const Results& results, const std::string& label);
/// The highest goodput of a curve (0 when nothing was measured).
double peak_goodput(const std::vector<GoodputPoint>& curve);
/// The point at `factor` (compared within 1e-6), if measured.
std::optional<GoodputPoint> point_at(const std::vector<GoodputPoint>& curve, double factor);

/// The cell of an experiment by server label and phase (and, for the ramp, load factor; for
/// caching, connection count; 0 matches any).
const CellResult* find_experiment_cell(const Results& results, const std::string& label,
                                       const std::string& phase, double load_factor = 0,
                                       std::uint32_t connections = 0);

/// Distinct server labels of the cells, in order of first appearance.
std::vector<std::string> cell_labels(const Results& results);

/// Runs a non-matrix plan; never throws for a failing cell.
Results run_experiment(const Plan& plan, const RunnerOptions& options);

}  // namespace c10k::compare
