#include "core/handover.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/core.h>

#include "core/sd_notify.hpp"

extern char** environ;

namespace c10k::core {

namespace {

struct Entry {
    int fd = -1;
    std::uint32_t endpoint = 0;
    bool shared = false;
};

// Everything the handlers read is written before they are installed or published by a count,
// so they read it without a lock.
pid_t g_main_pid = 0;
Entry g_entries[kMaxHandoverSockets];
std::atomic<std::size_t> g_count{0};
std::atomic<bool> g_closed{false};
std::atomic<pid_t> g_child{0};
std::atomic<std::uint64_t> g_reloads{0};
std::atomic<std::uint64_t> g_upgrades{0};
std::atomic<std::uint64_t> g_failed{0};
// The memfd a successor reads this process's state from. Made before any fork, so that the
// child of a group that holds the push channels can write it too; emptied at each handover.
int g_state_fd = -1;

/// In the shared page: the state of the current handover was written (once per handover).
struct SharedPage {
    std::atomic<int> draining{0};
    std::atomic<int> state_written{0};
};
SharedPage* g_shared = nullptr;

/// The state memfd's header: a tag and the body's length, written after the body, so that a
/// reader that sees the tag sees the whole body.
struct StateHeader {
    char tag[8];
    std::uint64_t length;
};
constexpr char kStateTag[8] = {'c', '1', '0', 'k', 's', 't', 'a', 't'};

std::vector<std::string> g_args;
std::vector<char*> g_argv;
std::vector<std::string> g_env;
std::vector<char*> g_envp;  // environ without our variables, two slots for them, nullptr
char g_exe[PATH_MAX];
char g_inherit[32 + kMaxHandoverSockets * 24];
char g_from[192];

constexpr const char* kInheritVar = "C10K_INHERIT";
constexpr const char* kHandoverVar = "C10K_HANDOVER";

/// A fixed buffer that signal handlers format into (no allocation, no locale).
struct Text {
    char* data;
    std::size_t size;
    std::size_t used = 0;

    void add(const char* text) {
        while (*text != '\0' && used + 1 < size) data[used++] = *text++;
        data[used] = '\0';
    }
    void add(long long value) {
        char digits[24];
        int n = 0;
        bool negative = value < 0;
        unsigned long long v = negative ? 0ULL - static_cast<unsigned long long>(value)
                                        : static_cast<unsigned long long>(value);
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        if (negative && used + 1 < size) data[used++] = '-';
        while (n > 0 && used + 1 < size) data[used++] = digits[--n];
        data[used] = '\0';
    }
    void write_to(int fd) const {
        ssize_t ignored = ::write(fd, data, used);
        (void)ignored;
    }
};

void say(const char* a, long long n = -1, const char* b = "", long long m = -1,
         const char* c = "") {
    char buffer[512];
    Text text{buffer, sizeof buffer};
    text.add(a);
    if (n >= 0) text.add(n);
    text.add(b);
    if (m >= 0) text.add(m);
    text.add(c);
    text.write_to(STDERR_FILENO);
}

void on_handover_signal(int signo) {
    int saved_errno = errno;
    bool upgrade = signo == SIGUSR2;
    const char* what = upgrade ? "upgrade" : "reload";
    if (::getpid() != g_main_pid) {
        errno = saved_errno;
        return;  // a child of the server: the main process alone hands over
    }
    if (g_closed.load()) {
        say(upgrade ? "c10k: upgrade ignored: the server is stopping\n"
                    : "c10k: reload ignored: the server is stopping\n");
        errno = saved_errno;
        return;
    }
    if (pid_t child = g_child.load(); child != 0) {
        say(upgrade ? "c10k: upgrade ignored: pid " : "c10k: reload ignored: pid ", child,
            " is still taking over\n");
        errno = saved_errno;
        return;
    }
    std::size_t count = g_count.load();
    Text inherit{g_inherit, sizeof g_inherit};
    inherit.add(kInheritVar);
    inherit.add("=");
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) inherit.add(",");
        inherit.add(static_cast<long long>(g_entries[i].endpoint));
        inherit.add(":");
        inherit.add(static_cast<long long>(g_entries[i].fd));
        inherit.add(g_entries[i].shared ? ":s" : ":l");
    }
    // Where this process (or the child of its group that holds the push channels) leaves its
    // state for the successor: emptied, so that an earlier attempt's is not taken for it.
    int state = g_state_fd;
    if (state >= 0) ::ftruncate(state, 0);
    if (g_shared != nullptr) g_shared->state_written.store(0);
    Text from{g_from, sizeof g_from};
    from.add(kHandoverVar);
    from.add("=");
    from.add(static_cast<long long>(g_main_pid));
    from.add(":");
    from.add(what);
    from.add(":");
    from.add(static_cast<long long>(state));
    // The successor's counts, as they will be if it takes over.
    from.add(":");
    from.add(static_cast<long long>(g_reloads.load() + (upgrade ? 0 : 1)));
    from.add(":");
    from.add(static_cast<long long>(g_upgrades.load() + (upgrade ? 1 : 0)));
    from.add(":");
    from.add(static_cast<long long>(g_failed.load()));
    std::size_t slots = g_envp.size();
    g_envp[slots - 3] = g_inherit;
    g_envp[slots - 2] = g_from;
    const char* path = upgrade ? g_exe : "/proc/self/exe";
    pid_t pid = ::_Fork();
    if (pid == 0) {
        for (std::size_t i = 0; i < count; ++i) ::fcntl(g_entries[i].fd, F_SETFD, 0);
        if (state >= 0) ::fcntl(state, F_SETFD, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(path, g_argv.data(), g_envp.data());
        say("c10k: cannot run the new binary (errno ", errno, "): ");
        say(path, -1, "\n");
        ::_exit(127);
    }
    if (pid < 0) {
        say(upgrade ? "c10k: upgrade failed: fork: errno " : "c10k: reload failed: fork: errno ",
            errno, "; still serving\n");
        errno = saved_errno;
        return;
    }
    g_child.store(pid);
    if (g_shared != nullptr) g_shared->draining.store(1);
    say(upgrade ? "c10k: upgrade: started pid " : "c10k: reload: started pid ", pid,
        upgrade ? ", the binary at " : " to read the configuration again\n");
    if (upgrade) say(g_exe, -1, "\n");
    errno = saved_errno;
}

void on_child_exit(int) {
    int saved_errno = errno;
    pid_t child = g_child.load();
    int status = 0;
    if (::getpid() == g_main_pid && child > 0 && ::waitpid(child, &status, WNOHANG) == child) {
        g_child.store(0);
        if (g_shared != nullptr) g_shared->draining.store(0);
        g_failed.fetch_add(1);
        if (!g_closed.load()) {
            // The new process failed before it took over: it said why on the same stderr.
            if (WIFSIGNALED(status)) {
                say("c10k: the new process (pid ", child, ") was killed by signal ",
                    WTERMSIG(status), " before taking over; still serving\n");
            } else {
                say("c10k: the new process (pid ", child, ") exited with status ",
                    WEXITSTATUS(status), " before taking over; still serving\n");
            }
        }
    }
    errno = saved_errno;
}

std::vector<std::string> read_command_line() {
    std::ifstream file("/proc/self/cmdline", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    std::size_t start = 0;
    while (start < all.size()) {
        std::size_t end = all.find('\0', start);
        if (end == std::string::npos) end = all.size();
        args.emplace_back(all, start, end - start);
        start = end + 1;
    }
    return args;
}

bool starts_with_var(const char* entry, const char* name) {
    std::size_t length = std::strlen(name);
    return std::strncmp(entry, name, length) == 0 && entry[length] == '=';
}

}  // namespace

void install_handover() {
    g_main_pid = ::getpid();
    if (g_shared == nullptr) {
        void* page = ::mmap(nullptr, sizeof(SharedPage), PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (page != MAP_FAILED) g_shared = new (page) SharedPage();
    }
    // Without it (a seccomp filter that refuses memfd_create) a handover passes no state: the
    // successor's push subscribers are told what history was lost.
    if (g_state_fd < 0) g_state_fd = ::memfd_create("c10k-handover", MFD_CLOEXEC);
    g_args = read_command_line();
    g_argv.clear();
    for (auto& arg : g_args) g_argv.push_back(arg.data());
    g_argv.push_back(nullptr);
    g_env.clear();
    for (char** entry = environ; *entry != nullptr; ++entry) {
        // Descriptors systemd passed are ours to pass on now, and the last handover's
        // variables describe another process.
        if (starts_with_var(*entry, kInheritVar) || starts_with_var(*entry, kHandoverVar) ||
            starts_with_var(*entry, "LISTEN_FDS") || starts_with_var(*entry, "LISTEN_PID") ||
            starts_with_var(*entry, "LISTEN_FDNAMES")) {
            continue;
        }
        g_env.emplace_back(*entry);
    }
    g_envp.clear();
    for (auto& entry : g_env) g_envp.push_back(entry.data());
    g_envp.push_back(nullptr);  // C10K_INHERIT, filled by the handler
    g_envp.push_back(nullptr);  // C10K_HANDOVER
    g_envp.push_back(nullptr);
    ssize_t n = ::readlink("/proc/self/exe", g_exe, sizeof g_exe - 1);
    g_exe[n > 0 ? n : 0] = '\0';
    // A binary replaced by a package upgrade shows as "PATH (deleted)": the new file is PATH.
    if (std::size_t length = std::strlen(g_exe);
        length > 10 && std::strcmp(g_exe + length - 10, " (deleted)") == 0) {
        g_exe[length - 10] = '\0';
    }

    struct sigaction action {};
    action.sa_handler = on_handover_signal;
    sigemptyset(&action.sa_mask);
    // Not during each other: one handover at a time, and the child check sees a settled pid.
    sigaddset(&action.sa_mask, SIGHUP);
    sigaddset(&action.sa_mask, SIGUSR2);
    sigaddset(&action.sa_mask, SIGCHLD);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGHUP, &action, nullptr);
    ::sigaction(SIGUSR2, &action, nullptr);
    struct sigaction child_action {};
    child_action.sa_handler = on_child_exit;
    child_action.sa_mask = action.sa_mask;
    child_action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    ::sigaction(SIGCHLD, &child_action, nullptr);
    // A process started by a handover begins with both blocked (its predecessor's handler was
    // running when it forked); execve keeps the mask.
    sigset_t handover_signals;
    sigemptyset(&handover_signals);
    sigaddset(&handover_signals, SIGHUP);
    sigaddset(&handover_signals, SIGUSR2);
    sigaddset(&handover_signals, SIGCHLD);
    ::pthread_sigmask(SIG_UNBLOCK, &handover_signals, nullptr);
}

void handover_register(int fd, std::size_t endpoint, bool shared) {
    std::size_t index = g_count.load();
    if (index >= kMaxHandoverSockets) return;
    g_entries[index] = Entry{fd, static_cast<std::uint32_t>(endpoint), shared};
    g_count.store(index + 1);
}

void handover_close() {
    g_closed.store(true);
    g_count.store(0);
}

HandoverCounts handover_counts() {
    return HandoverCounts{g_reloads.load(), g_upgrades.load(), g_failed.load()};
}

bool handover_draining() {
    return g_shared != nullptr && g_shared->draining.load(std::memory_order_relaxed) != 0;
}

void handover_pass_state(std::string_view bytes) {
    if (g_state_fd < 0 || g_shared == nullptr || g_shared->draining.load() == 0) return;
    int expected = 0;
    if (!g_shared->state_written.compare_exchange_strong(expected, 1)) return;  // once
    std::size_t at = 0;
    while (at < bytes.size()) {
        ssize_t n = ::pwrite(g_state_fd, bytes.data() + at, bytes.size() - at,
                             static_cast<off_t>(sizeof(StateHeader) + at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // no header: the successor gives up waiting, and says so
        at += static_cast<std::size_t>(n);
    }
    StateHeader header{};
    std::memcpy(header.tag, kStateTag, sizeof header.tag);
    header.length = bytes.size();
    ssize_t ignored = ::pwrite(g_state_fd, &header, sizeof header, 0);
    (void)ignored;
}

bool read_handover_state(int fd, std::string& out) {
    StateHeader header{};
    if (::pread(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
        std::memcmp(header.tag, kStateTag, sizeof header.tag) != 0) {
        return false;
    }
    out.assign(header.length, '\0');
    std::size_t at = 0;
    while (at < out.size()) {
        ssize_t n =
            ::pread(fd, out.data() + at, out.size() - at, static_cast<off_t>(sizeof header + at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        at += static_cast<std::size_t>(n);
    }
    out.resize(at);
    return true;
}

bool take_handover(Handover& out, std::string& error) {
    out = Handover{};
    const char* from = std::getenv(kHandoverVar);
    const char* inherit = std::getenv(kInheritVar);
    if (from == nullptr) return true;
    std::string from_text = from;
    std::string inherit_text = inherit != nullptr ? inherit : "";
    ::unsetenv(kHandoverVar);
    ::unsetenv(kInheritVar);
    int from_pid = 0;
    char what[16] = {};
    int state = -1;
    unsigned long long reloads = 0;
    unsigned long long upgrades = 0;
    unsigned long long failed = 0;
    if (std::sscanf(from_text.c_str(), "%d:%15[a-z]:%d:%llu:%llu:%llu", &from_pid, what, &state,
                    &reloads, &upgrades, &failed) != 6 ||
        from_pid <= 0) {
        error = fmt::format("{}: '{}' is not PID:WHAT:STATE:RELOADS:UPGRADES:FAILED", kHandoverVar,
                            from_text);
        return false;
    }
    g_reloads.store(reloads);
    g_upgrades.store(upgrades);
    g_failed.store(failed);
    out.from = static_cast<pid_t>(from_pid);
    out.what = what;
    if (state >= 0) {
        out.state = unique_fd(state);
        ::fcntl(state, F_SETFD, FD_CLOEXEC);
    }
    // Own every descriptor first, so that all are closed if one of them is refused.
    std::size_t start = 0;
    while (start < inherit_text.size()) {
        std::size_t end = inherit_text.find(',', start);
        if (end == std::string::npos) end = inherit_text.size();
        std::string entry = inherit_text.substr(start, end - start);
        start = end + 1;
        unsigned endpoint = 0;
        int fd = -1;
        char kind = 0;
        if (std::sscanf(entry.c_str(), "%u:%d:%c", &endpoint, &fd, &kind) != 3 || fd < 0 ||
            (kind != 's' && kind != 'l')) {
            error = fmt::format("{}: the entry '{}' is not ENDPOINT:FD:s|l", kInheritVar, entry);
            return false;
        }
        InheritedSocket socket;
        socket.endpoint = endpoint;
        socket.shared = kind == 's';
        socket.fd = unique_fd(fd);
        out.sockets.push_back(std::move(socket));
    }
    for (auto& socket : out.sockets) {
        int fd = socket.fd.get();
        int listening = 0;
        socklen_t length = sizeof listening;
        if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 ||
            listening == 0) {
            error = fmt::format("descriptor {} passed on by pid {} is not a listening socket", fd,
                                out.from);
            return false;
        }
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        auto address = local_endpoint(fd);
        if (!address) {
            error = fmt::format("descriptor {} passed on by pid {}: {}", fd, out.from,
                                std::strerror(address.error()));
            return false;
        }
        socket.address = *address;
    }
    return true;
}

void finish_handover(pid_t from) {
    if (from <= 0) return;
    (void)notify_mainpid(::getpid());
    (void)notify_ready();
    // Only the process that started this one: a stale variable must not stop a stranger.
    if (::getppid() == from) ::kill(from, SIGTERM);
}

}  // namespace c10k::core
