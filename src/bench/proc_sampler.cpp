#include "bench/proc_sampler.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

namespace c10k::bench {
namespace {

// /proc/PID/stat is "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
// fields are counted from the last ')'.
bool read_stat_fields(pid_t pid, std::vector<std::string>& fields) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    std::ifstream file(path);
    std::string line;
    if (!file || !std::getline(file, line)) return false;
    auto close = line.rfind(')');
    if (close == std::string::npos) return false;
    fields.clear();
    std::size_t pos = close + 2;
    while (pos < line.size()) {
        auto space = line.find(' ', pos);
        if (space == std::string::npos) space = line.size();
        fields.push_back(line.substr(pos, space - pos));
        pos = space + 1;
    }
    // fields[0] is the state (field 3 of stat), so field N is fields[N - 3].
    return fields.size() > 13;
}

}  // namespace

double process_cpu_seconds(pid_t pid) {
    std::vector<std::string> fields;
    if (!read_stat_fields(pid, fields)) return -1;
    double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    // utime and stime are fields 14 and 15, in clock ticks; the process's line already sums
    // every thread, live and exited. cutime and cstime (16 and 17) hold the children it has
    // reaped: a fork-per-connection server's work is done by children that are gone before
    // the next sample, and only their parent's account still shows it.
    double own = (std::strtod(fields[11].c_str(), nullptr) + std::strtod(fields[12].c_str(), nullptr)) / hz;
    double reaped = 0;
    if (fields.size() > 14) {
        reaped = (std::strtod(fields[13].c_str(), nullptr) + std::strtod(fields[14].c_str(), nullptr)) / hz;
    }
    // Ticks are 10 ms: a process per connection that used 0.3 ms shows 0, and a thousand of
    // them vanish from the sum. A single-threaded process's schedstat gives its time on the
    // CPU in nanoseconds instead (num_threads is field 20).
    if (fields.size() > 17 && std::atol(fields[17].c_str()) == 1) {
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%d/schedstat", static_cast<int>(pid));
        std::ifstream file(path);
        double ns = 0;
        if (file >> ns) own = ns / 1e9;
    }
    return own + reaped;
}

std::uint64_t process_rss_kb(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
    }
    return 0;
}

std::vector<pid_t> process_tree(const std::vector<pid_t>& roots) {
    std::multimap<pid_t, pid_t> children;
    if (DIR* proc = opendir("/proc")) {
        std::vector<std::string> fields;
        while (dirent* entry = readdir(proc)) {
            char* end = nullptr;
            long pid = std::strtol(entry->d_name, &end, 10);
            if (end == entry->d_name || *end != '\0') continue;
            if (!read_stat_fields(static_cast<pid_t>(pid), fields)) continue;
            children.emplace(static_cast<pid_t>(std::atol(fields[1].c_str())),
                             static_cast<pid_t>(pid));
        }
        closedir(proc);
    }
    std::vector<pid_t> tree;
    std::vector<pid_t> pending(roots.begin(), roots.end());
    while (!pending.empty()) {
        pid_t pid = pending.back();
        pending.pop_back();
        if (std::find(tree.begin(), tree.end(), pid) != tree.end()) continue;
        if (kill(pid, 0) != 0 && errno != EPERM) continue;  // gone
        tree.push_back(pid);
        auto [first, last] = children.equal_range(pid);
        for (auto it = first; it != last; ++it) pending.push_back(it->second);
    }
    return tree;
}

ProcSample sample_processes(const std::vector<pid_t>& roots) {
    ProcSample sample;
    for (pid_t pid : process_tree(roots)) {
        double cpu = process_cpu_seconds(pid);
        if (cpu < 0) continue;
        sample.cpu_s += cpu;
        sample.rss_kb += process_rss_kb(pid);
        sample.processes++;
    }
    return sample;
}

}  // namespace c10k::bench
