#include "bench/coordinator.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "core/clock.hpp"

namespace c10k::bench {
namespace {

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

Worker fork_worker(const std::function<std::vector<std::uint8_t>()>& body,
                   const std::vector<Worker>& earlier) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe() failed");
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork() failed: {}", std::strerror(errno)));
    if (pid == 0) {
        ::close(fds[0]);
        for (const auto& worker : earlier) ::close(worker.pipe);
        auto bytes = body();
        _exit(write_all(fds[1], bytes.data(), bytes.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    return Worker{pid, fds[0], {}, false};
}

void collect_workers(std::vector<Worker>& workers, std::int64_t deadline_ns) {
    while (true) {
        std::vector<pollfd> fds;
        for (auto& worker : workers) {
            if (!worker.done) fds.push_back(pollfd{worker.pipe, POLLIN, 0});
        }
        if (fds.empty()) break;
        std::int64_t left_ms = (deadline_ns - core::monotonic_ns()) / 1'000'000;
        if (left_ms <= 0) break;
        if (::poll(fds.data(), fds.size(),
                   static_cast<int>(std::min<std::int64_t>(left_ms, 1000))) < 0 &&
            errno != EINTR) {
            break;
        }
        for (auto& worker : workers) {
            if (worker.done) continue;
            std::uint8_t buffer[65536];
            ssize_t n = ::read(worker.pipe, buffer, sizeof buffer);
            if (n > 0) {
                worker.bytes.insert(worker.bytes.end(), buffer, buffer + n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                worker.done = true;
            }
        }
    }
    for (auto& worker : workers) {
        if (!worker.done) ::kill(worker.pid, SIGKILL);  // our own child, past its deadline
        ::close(worker.pipe);
        int status = 0;
        ::waitpid(worker.pid, &status, 0);
    }
}

MeasuredInterval run_interval(const BenchOptions& options, std::uint32_t loops, RunControl& control,
                              Progress& progress, const std::vector<pid_t>& server_pids,
                              const ProcSample& before) {
    // Start only when every loop has opened its connections, so that connecting (which may
    // take seconds for 100,000) is not measured. Each loop bounds its own connects
    // (--connect-timeout each); this bound only guards against a loop that never reports.
    // Late loops join the schedule when they are ready.
    std::int64_t ready_deadline =
        core::monotonic_ns() + 2 * options.connect_timeout_ns + 30'000'000'000LL;
    auto interrupted = [&] {
        return options.interrupted != nullptr && options.interrupted->load();
    };
    while (control.ready.load() < loops && core::monotonic_ns() < ready_deadline &&
           !interrupted()) {
        progress.connecting();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    MeasuredInterval interval;
    interval.start_ns = core::monotonic_ns() + 20'000'000;
    control.start_ns.store(interval.start_ns);
    interval.measure_start_ns = interval.start_ns + options.warmup_ns;
    interval.measure_end_ns = interval.measure_start_ns + options.duration_ns;
    interval.at_start = before;
    bool sampled_start = false;
    while (true) {
        std::int64_t now = core::monotonic_ns();
        if (interrupted() && control.stop_ns.load() == 0) {
            control.stop_ns.store(now);
            interval.measure_end_ns =
                std::max(std::min(interval.measure_end_ns, now), interval.measure_start_ns);
        }
        if (!sampled_start && now >= interval.measure_start_ns) {
            if (!server_pids.empty()) interval.at_start = sample_processes(server_pids);
            sampled_start = true;
        }
        if (now >= interval.measure_end_ns) break;
        progress.running(now - interval.start_ns);
        std::int64_t next = sampled_start ? interval.measure_end_ns : interval.measure_start_ns;
        std::int64_t step = std::min<std::int64_t>(next - now, 50'000'000);
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(step, 0)));
    }
    if (!sampled_start && !server_pids.empty()) interval.at_start = sample_processes(server_pids);
    interval.at_end = server_pids.empty() ? ProcSample{} : sample_processes(server_pids);
    progress.finish();
    return interval;
}

}  // namespace c10k::bench
