#include "fastcgi/pool.hpp"

#include <algorithm>

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

void Pool::close_idle() {
    for (auto& idle : idle_) {
        if (context_ != nullptr && context_->descriptors() != nullptr) {
            context_->descriptors()->unwatch(idle->connection().fd.get());
        }
        if (open_ > 0) --open_;
    }
    idle_.clear();
}

}  // namespace c10k::fastcgi
