#include "proxy/tcp/pipe_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace c10k::proxy::tcp {

Pipe PipePool::take() {
    if (!idle_.empty()) {
        Pipe pipe = std::move(idle_.back());
        idle_.pop_back();
        return pipe;
    }
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
    Pipe pipe;
    pipe.read.reset(fds[0]);
    pipe.write.reset(fds[1]);
    return pipe;
}

void PipePool::give_back(Pipe pipe) {
    if (pipe && idle_.size() < keep_) idle_.push_back(std::move(pipe));
}

}  // namespace c10k::proxy::tcp
