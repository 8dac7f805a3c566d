#pragma once
// Runs a Plan cell by cell: start the server on CPU 0, wait until it answers, run `c10k bench`
// on CPU 1 against it, read the bench's JSON report, judge whether the server held the load,
// stop the server. A cell that fails is recorded with its reason and the run goes on.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <vector>
#include <string>

#include "compare/matrix.hpp"
#include "compare/results.hpp"

namespace c10k::compare {

struct RunnerOptions {
    std::string c10k_binary;  ///< this executable; used both as server and as load generator
    std::string out_dir;      ///< where the report goes (the work files go in a subfolder)
    /// Progress lines on stderr: one line rewritten in place on a terminal, one plain line per
    /// finished cell otherwise (a log file or a CI console).
    bool progress_tty = false;
    bool progress = true;
};

/// The figures of one cell from a c10k-bench/1 JSON report, with the verdict on whether the
/// server held the load. Public so that the judgement can be tested on canned reports.
CellResult cell_from_bench_json(const Cell& cell, const std::string& json);

/// Decides `held` and `failure` from the counts already in `result` (errors, connections,
/// statuses). `server_exit` is non-empty when the server died during the cell.
void judge_cell(CellResult& result, const std::string& server_exit);

/// Writes SIZE.txt of printable bytes for every size into `root` (created if needed).
void make_docroot(const std::string& root, const std::vector<std::uint64_t>& sizes);

/// Waits for `pid` up to `timeout`; kills it past that. Returns the wait status, or -1 when it
/// had to be killed.
int wait_bounded(pid_t pid, std::chrono::seconds timeout);

/// Runs every cell of `plan`; never throws for a failing cell.
Results run_plan(const Plan& plan, const RunnerOptions& options);

/// Machine, kernel, commit and time of the run, for the report.
RunInfo describe_machine(const std::string& source_dir);

/// What every run starts with: the plan, the machine, the anchors' versions, and a fresh
/// working directory under /tmp (returned; the caller removes it).
std::string begin_run(const Plan& plan, Results& results);

}  // namespace c10k::compare
