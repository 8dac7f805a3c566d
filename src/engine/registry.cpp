// The table of engines: name, what it is, how to make it, and whether it works here.

#include <functional>
#include <string>

#include "engine/engine.hpp"
#include "engine/engines.hpp"

namespace c10k::engine {

namespace {

struct Entry {
    const char* name;
    const char* description;
    std::unique_ptr<Engine> (*make)();
    /// Empty when the engine works on this machine, else the reason it does not.
    std::function<std::string()> probe;
};

std::string always_works() {
    return {};
}

const std::vector<Entry>& entries() {
    static const std::vector<Entry> table = {
        {"epoll", "edge-triggered epoll, one loop per thread (default)", make_epoll_engine,
         always_works},
        {"epoll-lt", "level-triggered epoll on the same loop, for comparison", make_epoll_lt_engine,
         always_works},
        {"poll", "poll(), level-triggered on the same loop: O(connections) per wait",
         make_poll_engine, always_works},
        {"select", "select() on the same loop; descriptors >= FD_SETSIZE are refused",
         make_select_engine, always_works},
        {"sigio", "realtime signals (F_SETSIG, sigtimedwait), poll() sweep on queue overflow",
         make_sigio_engine, always_works},
        {"uring", "io_uring: multishot accept and recv, provided buffers, splice for files",
         make_uring_engine, uring_unavailable_reason},
        {"staged",
         "SEDA stages: epoll loops read and write, handler and file-read thread pools sized by "
         "controllers",
         make_staged_engine, always_works},
        {"thread", "one thread per connection, blocking I/O, small stacks, capped",
         make_thread_engine, always_works},
        {"fork", "one process per connection (fork per client), capped", make_fork_engine,
         always_works},
        {"prefork", "N processes blocking in accept() on one listener (Apache prefork)",
         make_prefork_engine, always_works},
    };
    return table;
}

}  // namespace

std::vector<EngineInfo> all_engines() {
    std::vector<EngineInfo> result;
    for (const auto& entry : entries()) {
        std::string why_not = entry.probe();
        result.push_back({entry.name, entry.description, why_not.empty(), why_not});
    }
    return result;
}

std::vector<std::string> available() {
    std::vector<std::string> names;
    for (const auto& info : all_engines()) {
        if (info.available) names.push_back(info.name);
    }
    return names;
}

std::unique_ptr<Engine> create(std::string_view name) {
    for (const auto& entry : entries()) {
        if (name == entry.name) return entry.make();
    }
    return nullptr;
}

}  // namespace c10k::engine
