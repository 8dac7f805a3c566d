// Server CPU must include the work of children that have already exited and been reaped (a
// fork-per-connection server), which /proc shows only in the parent's cutime and cstime.

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "bench/proc_sampler.hpp"

namespace c10k::bench {
namespace {

double own_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST(ProcSampler, CountsReapedChildren) {
    double before = process_cpu_seconds(getpid());
    ASSERT_GE(before, 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // Burn 0.3 s of CPU (not of wall time, so that a busy machine changes nothing).
        volatile unsigned long sink = 0;
        while (own_cpu_seconds() < 0.3) sink = sink + 1;
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    double after = process_cpu_seconds(getpid());
    EXPECT_GE(after - before, 0.2) << "a reaped child's CPU time went missing";
}

}  // namespace
}  // namespace c10k::bench
