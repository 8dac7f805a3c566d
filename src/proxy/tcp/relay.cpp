#include "proxy/tcp/relay.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

namespace c10k::proxy::tcp {

namespace {

/// The default pipe's capacity (16 pages). Asking for more than the pipe can take just makes
/// the kernel stop at what fits.
constexpr std::size_t kSpliceChunk = 64 * 1024;

// SPLICE_F_NONBLOCK makes the pipe side non-blocking as well (the sockets already are), so a
// full pipe is an EAGAIN rather than a stalled loop; SPLICE_F_MOVE asks for pages to be moved
// rather than copied where the kernel can.
constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

}  // namespace

Direction::Outcome Direction::pump(PipePool& pipes) {
    for (;;) {
        if (in_pipe_ > 0) {
            ssize_t n = ::splice(pipe_.read.get(), nullptr, to_, nullptr, in_pipe_, kSpliceFlags);
            if (n > 0) {
                in_pipe_ -= static_cast<std::uint64_t>(n);
                moved_ += static_cast<std::uint64_t>(n);
                if (moved_counter_ != nullptr) moved_counter_->add(static_cast<std::uint64_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            // The destination is full: its EPOLLOUT edge resumes this, and until then the
            // source is not read (the backpressure).
            if (n < 0 && errno == EAGAIN) return Outcome::waiting;
            return Outcome::failed;
        }
        // The pipe is empty: an EAGAIN from the source below can only mean the source has
        // nothing, so the next byte it gets brings an edge.
        if (eof_) {
            if (!shut_) {
                release(pipes);
                // The peer may have gone already (ENOTCONN): the other direction finds out.
                ::shutdown(to_, SHUT_WR);
                shut_ = true;
            }
            return Outcome::done;
        }
        if (!pipe_) {
            pipe_ = pipes.take();
            if (!pipe_) return Outcome::failed;
        }
        ssize_t n =
            ::splice(from_, nullptr, pipe_.write.get(), nullptr, kSpliceChunk, kSpliceFlags);
        if (n > 0) {
            in_pipe_ = static_cast<std::uint64_t>(n);
            continue;
        }
        if (n == 0) {
            eof_ = true;
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
            release(pipes);  // empty: an idle direction holds no pipe
            return Outcome::waiting;
        }
        return Outcome::failed;
    }
}

void Direction::release(PipePool& pipes) {
    if (!pipe_) return;
    // Only an empty pipe is reusable; one with bytes in it is closed with them.
    if (in_pipe_ == 0) pipes.give_back(std::move(pipe_));
    pipe_ = Pipe{};
    in_pipe_ = 0;
}

}  // namespace c10k::proxy::tcp
