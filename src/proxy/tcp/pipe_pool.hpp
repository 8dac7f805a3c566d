#pragma once
// Pipes for splice(2), kept per loop. A relay takes a pipe for a direction only while bytes
// are on their way and gives it back once the pipe is empty again, so an idle connection holds
// no pipe (two descriptors and up to 64 KiB of kernel memory each) and a loop's pipe count
// follows its active relays, not its open ones (HAProxy does the same with its pipe pool).

#include <cstddef>
#include <vector>

#include "core/unique_fd.hpp"

namespace c10k::proxy::tcp {

struct Pipe {
    core::unique_fd read;
    core::unique_fd write;
    explicit operator bool() const { return static_cast<bool>(read); }
};

class PipePool {
public:
    /// `keep`: empty pipes held for reuse; more than that are closed when given back.
    explicit PipePool(std::size_t keep = 64) : keep_(keep) {}

    /// An empty non-blocking pipe; an empty Pipe (errno set) when none can be made.
    Pipe take();
    /// Back into the pool; it must be empty (the caller drained it).
    void give_back(Pipe pipe);

    std::size_t idle() const { return idle_.size(); }

private:
    std::size_t keep_;
    std::vector<Pipe> idle_;
};

}  // namespace c10k::proxy::tcp
