#include "fastcgi/pool.hpp"

#include <algorithm>
#include <cerrno>

namespace c10k::fastcgi {

/// An idle connection, watched for the application's close (or anything it should not send).
class Pool::Idle final : public http::DescriptorTask {
public:
    Idle(Pool& pool, Connection connection) : pool_(pool), connection_(std::move(connection)) {}
    Connection& connection() { return connection_; }
    void on_ready(std::uint32_t) override { pool_.drop(*this); }

private:
    Pool& pool_;
    Connection connection_;
};

Pool::Pool(Address address, std::size_t max_connections)
    : address_(std::move(address)), max_connections_(max_connections) {}

Pool::~Pool() {
    close_idle();
}

bool Pool::take_idle(Connection& out) {
    if (idle_.empty()) return false;
    // The most recently used: the likeliest to be alive, and the others may be dropped later.
    std::unique_ptr<Idle> idle = std::move(idle_.back());
    idle_.pop_back();
    // Left watched, pointing at the Idle until the taker re-points it (before this returns
    // to the loop): a hand-over costs no system call.
    out = std::move(idle->connection());
    out.watched = true;
    return true;
}

void Pool::give_back(Connection connection) {
    if (!waiters_.empty()) {
        Waiter* waiter = waiters_.front();
        waiters_.pop_front();
        waiter->on_connection_free(std::move(connection));
        return;
    }
    auto idle = std::make_unique<Idle>(*this, std::move(connection));
    http::DescriptorWatcher* watcher = context_ != nullptr ? context_->descriptors() : nullptr;
    int fd = idle->connection().fd.get();
    if (watcher == nullptr || !watcher->watch(fd, http::DescriptorTask::readable, *idle)) {
        // Cannot be watched: not kept (it would go stale unseen).
        if (watcher != nullptr && idle->connection().watched) watcher->unwatch(fd);
        closed();
        return;
    }
    idle->connection().watched = true;
    idle_.push_back(std::move(idle));
}

void Pool::closed() {
    if (open_ > 0) --open_;
    if (!waiters_.empty() && may_open()) {
        Waiter* waiter = waiters_.front();
        waiters_.pop_front();
        waiter->on_connection_free(Connection{});
    }
}

void Pool::cancel(Waiter& waiter) {
    auto it = std::find(waiters_.begin(), waiters_.end(), &waiter);
    if (it != waiters_.end()) waiters_.erase(it);
}

void Pool::drop(Idle& idle) {
    auto it = std::find_if(idle_.begin(), idle_.end(),
                           [&](const auto& entry) { return entry.get() == &idle; });
    if (it == idle_.end()) return;
    std::unique_ptr<Idle> gone = std::move(*it);
    idle_.erase(it);
    if (context_ != nullptr && context_->descriptors() != nullptr) {
        context_->descriptors()->unwatch(gone->connection().fd.get());
    }
    gone.reset();  // closes it; its on_ready returns at once
    closed();
}

void Pool::probe() {
    if (mode_ != Mode::unknown) return;
    if (context_ == nullptr) {
        mode_ = Mode::single;
        return;
    }
    mode_ = Mode::probing;
    probe_ = std::make_unique<Probe>(*this, *context_);
    probe_->start();  // may answer (and reset probe_) at once
}

void Pool::probed(const Capabilities& capabilities, core::unique_fd fd) {
    // Kept until this returns: the probe is still on the stack.
    std::unique_ptr<Probe> done = std::move(probe_);
    mode_ = capabilities.multiplexes ? Mode::multiplexed : Mode::single;
    if (mode_ == Mode::multiplexed) {
        if (capabilities.max_requests > 0) {
            max_requests_ = std::min<std::size_t>(capabilities.max_requests, 65535);
        }
        if (capabilities.max_connections > 0) {
            max_connections_ = std::min(max_connections_, capabilities.max_connections);
        }
        if (mux_buffer_.empty()) mux_buffer_.resize(64 * 1024);
        if (fd && may_open()) {
            // The probe's connection is the first one: the application keeps it open.
            auto connection = std::make_unique<MuxConnection>(*this, *context_, std::move(fd),
                                                              false, max_requests_, mux_buffer_);
            if (connection->start()) {
                ++open_;
                multiplexed_.push_back(std::move(connection));
            }
        }
    }
    release_waiters();
}

void Pool::release_waiters() {
    // Each asks again, and may queue again: the queue is taken first.
    std::deque<Waiter*> waiting;
    waiting.swap(waiters_);
    for (Waiter* waiter : waiting) waiter->on_pool_ready();
}

MuxConnection* Pool::multiplexed_with_room() {
    for (auto& connection : multiplexed_) {
        if (connection->has_room()) return connection.get();
    }
    return nullptr;
}

MuxConnection* Pool::open_multiplexed() {
    auto fd = connect_to(address_);
    if (!fd) {
        errno = fd.error();
        return nullptr;
    }
    auto connection = std::make_unique<MuxConnection>(*this, *context_, std::move(*fd), true,
                                                      max_requests_, mux_buffer_);
    if (!connection->start()) return nullptr;
    ++open_;
    multiplexed_.push_back(std::move(connection));
    return multiplexed_.back().get();
}

void Pool::multiplexed_lost(MuxConnection& connection) {
    auto it = std::find_if(multiplexed_.begin(), multiplexed_.end(),
                           [&](const auto& entry) { return entry.get() == &connection; });
    if (it == multiplexed_.end()) return;
    multiplexed_.erase(it);
    closed();  // may open a new connection for a waiter
}

void Pool::slot_free() {
    if (waiters_.empty()) return;
    Waiter* waiter = waiters_.front();
    waiters_.pop_front();
    waiter->on_pool_ready();
}

void Pool::close_idle() {
    probe_.reset();
    for (auto& connection : multiplexed_) {
        connection->close();
        if (open_ > 0) --open_;
    }
    multiplexed_.clear();
    for (auto& idle : idle_) {
        if (context_ != nullptr && context_->descriptors() != nullptr) {
            context_->descriptors()->unwatch(idle->connection().fd.get());
        }
        if (open_ > 0) --open_;
    }
    idle_.clear();
}

}  // namespace c10k::fastcgi
