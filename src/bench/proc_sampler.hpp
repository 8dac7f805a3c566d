#pragma once
// Server-side cost, read from /proc: the CPU time and resident memory of a server's processes
// (each given PID with all its threads and all its descendants, so an nginx master brings its
// workers). Sampled at the start and the end of the measured interval, the difference divided
// by the requests completed gives server CPU per request, the figure that holds still on a
// noisy shared machine.

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace c10k::bench {

struct ProcSample {
    /// utime + stime of every process in the trees, seconds.
    double cpu_s = 0;
    /// Sum of VmRSS over the trees, KiB (pages shared between processes count once per process).
    std::uint64_t rss_kb = 0;
    /// Processes found (0 when none of the PIDs exists any more).
    std::uint32_t processes = 0;
};

/// Reads the trees rooted at `roots` now. Processes that vanish while being read are skipped.
ProcSample sample_processes(const std::vector<pid_t>& roots);

/// The PIDs of `roots` and all their descendants, found through the parent PIDs in /proc/*/stat.
std::vector<pid_t> process_tree(const std::vector<pid_t>& roots);

/// CPU seconds (utime + stime, including all threads) of one process; negative when unreadable.
double process_cpu_seconds(pid_t pid);

/// VmRSS of one process in KiB; 0 when unreadable.
std::uint64_t process_rss_kb(pid_t pid);

}  // namespace c10k::bench
