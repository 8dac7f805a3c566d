// http::DescriptorWatcher on the io_uring loop: a handler's own descriptors (a backend
// connection, a child's pipe) are watched with one POLL_ADD each, re-armed after every
// completion while the descriptor stays watched, which gives level-triggered semantics.

#include <poll.h>

#include <cerrno>

#include "engine/uring_loop.hpp"

namespace c10k::engine {

bool UringLoop::watch(int fd, std::uint32_t events, http::DescriptorTask& task) {
    if (fd < 0) {
        errno = EBADF;
        return false;
    }
    auto index = static_cast<std::size_t>(fd);
    if (index >= watches_.size()) watches_.resize(index + 1);
    auto& slot = watches_[index];
    if (!slot) {
        slot = std::make_unique<Watch>();
        slot->fd = fd;
    }
    Watch& watched = *slot;
    watched.task = &task;
    watched.events = events;
    if (!watched.armed) {
        arm_watch(watched);
    } else if (watched.armed_events != events && !watched.cancelling) {
        // Other events than the poll in flight waits for: cancel it; its completion
        // (-ECANCELED) arms a new one with the events wanted then.
        io_uring_prep_poll_remove(sqe(), tag(&watched, op_watch));
        io_uring_sqe_set_data64(last_sqe_, op_ignore);
        watched.cancelling = true;
    }
    return true;
}

void UringLoop::unwatch(int fd) {
    auto index = static_cast<std::size_t>(fd);
    if (fd < 0 || index >= watches_.size() || !watches_[index]) return;
    Watch& watched = *watches_[index];
    watched.task = nullptr;
    if (watched.armed && !watched.cancelling) {
        // The poll holds its own reference to the file, so the handler may close the
        // descriptor at once; a completion still on its way finds no task and is dropped.
        io_uring_prep_poll_remove(sqe(), tag(&watched, op_watch));
        io_uring_sqe_set_data64(last_sqe_, op_ignore);
        watched.cancelling = true;
    }
    // Kept until its poll's last completion has come (reap): the completion names it, and
    // on_watch may be the caller (a task that unwatches from on_ready).
    unwatched_.push_back(std::move(watches_[index]));
}

void UringLoop::arm_watch(Watch& watched) {
    unsigned mask = 0;
    if (watched.events & http::DescriptorTask::readable) mask |= POLLIN;
    if (watched.events & http::DescriptorTask::writable) mask |= POLLOUT;
    // Errors and hang-ups are always reported, as with epoll.
    io_uring_prep_poll_add(sqe(), watched.fd, mask);
    io_uring_sqe_set_data64(last_sqe_, tag(&watched, op_watch));
    watched.armed = true;
    watched.cancelling = false;
    watched.armed_events = watched.events;
}

void UringLoop::on_watch(Watch& watched, int result) {
    watched.armed = false;
    watched.cancelling = false;
    if (watched.task == nullptr) return;  // unwatched meanwhile: reaped after this batch
    if (result == -ECANCELED) {
        arm_watch(watched);  // cancelled by watch() to change the events
        return;
    }
    std::uint32_t bits = 0;
    if (result < 0) {
        // The poll itself failed (EBADF: closed without unwatch): say so once, as an error
        // both ways; the task's own read or write tells it what happened. Re-arming would
        // only fail again, so it waits for the task to call watch() anew.
        watched.task->on_ready(http::DescriptorTask::readable | http::DescriptorTask::writable);
        return;
    }
    auto revents = static_cast<unsigned>(result);
    if (revents & (POLLIN | POLLHUP | POLLERR)) bits |= http::DescriptorTask::readable;
    if (revents & (POLLOUT | POLLHUP | POLLERR)) bits |= http::DescriptorTask::writable;
    // A poll armed for other events may complete before the cancel that watch() sent: what
    // the task no longer watches for is not reported.
    bits &= watched.events;
    if (bits == 0) {
        if (!watched.armed) arm_watch(watched);
        return;
    }
    // on_ready may unwatch, change the events (which arms at once, the poll being done), or
    // close the descriptor and watch another: re-arm only what is still this watch's.
    watched.task->on_ready(bits);
    if (watched.task != nullptr && !watched.armed) arm_watch(watched);
}

}  // namespace c10k::engine
