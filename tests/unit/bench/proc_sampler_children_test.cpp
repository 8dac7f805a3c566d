// Server CPU must include the work of children that have already exited and been reaped (a
// fork-per-connection server), which /proc shows only in the parent's cutime and cstime.

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <vector>

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

namespace c10k::bench {
namespace {

TEST(ProcSampler, SmallAmountsOfManyProcessesAreNotRoundedAway) {
    // Twenty live single-threaded children that each burn 5 ms: in 10 ms ticks each would
    // read 0 (or 1); their sum must come out near 0.1 s.
    std::vector<pid_t> children;
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    for (int i = 0; i < 20; ++i) {
        pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            volatile unsigned long sink = 0;
            while (own_cpu_seconds() < 0.005) sink = sink + 1;
            char byte = 1;
            (void)!write(ready[1], &byte, 1);
            pause();
            _exit(0);
        }
        children.push_back(child);
    }
    for (int i = 0; i < 20; ++i) {
        char byte;
        ASSERT_EQ(read(ready[0], &byte, 1), 1);
    }
    double total = 0;
    for (pid_t child : children) total += process_cpu_seconds(child);
    for (pid_t child : children) kill(child, SIGKILL);
    for (pid_t child : children) waitpid(child, nullptr, 0);
    close(ready[0]);
    close(ready[1]);
    EXPECT_GE(total, 0.09);
    EXPECT_LE(total, 0.5);
}

}  // namespace
}  // namespace c10k::bench
