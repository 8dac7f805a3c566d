#include "engine/stage.hpp"

#include <time.h>

#include <algorithm>
#include <iterator>

namespace c10k::engine {

namespace {
std::int64_t now_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}
}  // namespace

Stage::Stage(std::string name, ControllerRule rule, HandlerFactory handlers)
    : name_(std::move(name)), handlers_(std::move(handlers)), controller_(rule) {}

Stage::~Stage() {
    stop();
}

void Stage::enable_overload(std::int64_t target_us) {
    std::lock_guard<std::mutex> lock(mutex_);
    overload_target_us_ = target_us;
    detector_ = target_us > 0 ? std::make_unique<core::OverloadDetector>(target_us) : nullptr;
}

void Stage::sample_delay(std::int64_t now) {
    if (!detector_) return;
    // The oldest queued work's age, not the age of what is taken: under LIFO the work taken is
    // the newest, and its short wait would end the overload while the queue still stands.
    std::int64_t delay =
        queue_.empty() ? 0 : std::max<std::int64_t>(now - queue_.front()->enqueued_us_, 0);
    queue_delay_us_.store(delay, std::memory_order_relaxed);
    overload_state_.set(detector_->observe(now, delay));
}

void Stage::take_stale(std::int64_t now, std::vector<std::unique_ptr<StageWork>>& stale) {
    if (!overload_state_.overloaded()) return;
    while (!queue_.empty() && now - queue_.front()->enqueued_us_ > overload_target_us_) {
        stale.push_back(std::move(queue_.front()));
        queue_.pop_front();
        ++stats_.dequeued;
    }
}

void Stage::expire_stale(http::Handler* handler, std::vector<std::unique_ptr<StageWork>>& stale,
                         bool on_worker) {
    if (stale.empty()) return;  // the usual case: every dequeue passes here
    std::int64_t now = now_us();
    std::vector<std::unique_ptr<StageWork>> kept;
    std::uint64_t expired = 0, ran = 0;
    for (auto& work : stale) {
        std::int64_t waited = std::max<std::int64_t>(now - work->enqueued_us_, 0);
        if (work->expire(work)) {
            shed_report_.count_request(waited);
            ++expired;
        } else if (on_worker) {
            StageWork* raw = work.get();
            raw->run(handler, work);
            work.reset();
            ++ran;
        } else {
            kept.push_back(std::move(work));
        }
    }
    stale.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.expired += expired;
    stats_.completed += expired + ran;
    if (kept.empty()) return;
    // The controller's sweep does not run work (it would stop ticking): back to the workers,
    // at the front, in the order it was in.
    for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
        queue_.push_front(std::move(*it));
        --stats_.dequeued;
    }
    wake_.notify_one();
}

void Stage::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    while (stats_.threads < controller_.rule().bounds.min_threads) start_thread();
}

void Stage::start_thread() {
    workers_.emplace_back();
    Worker* worker = &workers_.back();
    ++stats_.threads;
    ++stats_.threads_started;
    worker->thread = std::thread([this, worker] { worker_main(worker); });
}

bool Stage::push(std::unique_ptr<StageWork>& work) {
    work->enqueued_us_ = now_us();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return false;
        queue_.push_back(std::move(work));
        ++stats_.enqueued;
    }
    wake_.notify_one();
    return true;
}

void Stage::worker_main(Worker* self) {
    std::unique_ptr<http::Handler> handler;
    std::unique_lock<std::mutex> lock(mutex_);
    if (handlers_) {
        if (!spare_handlers_.empty()) {
            handler = std::move(spare_handlers_.back());
            spare_handlers_.pop_back();
        } else {
            // Made outside the lock: a handler's constructor may do I/O (a cache, a root).
            lock.unlock();
            handler = handlers_();
            lock.lock();
        }
    }
    for (;;) {
        ++stats_.idle_threads;
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || retire_ > 0; });
        --stats_.idle_threads;
        if (stopping_) break;
        if (queue_.empty()) {
            --retire_;  // an idle thread answers the controller's call to shrink
            break;
        }
        std::int64_t now = now_us();
        sample_delay(now);
        std::vector<std::unique_ptr<StageWork>> stale;
        take_stale(now, stale);
        std::unique_ptr<StageWork> work;
        if (queue_.empty()) {
            // All of it was stale.
        } else if (overload_state_.overloaded()) {
            work = std::move(queue_.back());
            queue_.pop_back();
            ++stats_.taken_newest_first;
        } else {
            work = std::move(queue_.front());
            queue_.pop_front();
        }
        if (work) {
            ++stats_.dequeued;
            stats_.wait_us +=
                static_cast<std::uint64_t>(std::max<std::int64_t>(now - work->enqueued_us_, 0));
        }
        lock.unlock();
        expire_stale(handler.get(), stale, true);
        if (!work) {
            lock.lock();
            continue;
        }
        StageWork* raw = work.get();
        raw->run(handler.get(), work);  // may move `work` on to another stage
        work.reset();
        lock.lock();
        ++stats_.completed;
    }
    if (handler) spare_handlers_.push_back(std::move(handler));
    --stats_.threads;
    ++stats_.threads_stopped;
    self->finished = true;
}

StageDecision Stage::control() {
    std::list<Worker> done;
    std::vector<std::unique_ptr<StageWork>> stale;
    StageDecision decision = StageDecision::hold;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = workers_.begin(); it != workers_.end();) {
            auto next = std::next(it);
            if (it->finished) done.splice(done.end(), workers_, it);
            it = next;
        }
        if (stopping_) return decision;
        // Also sampled here, so that a stage whose admission stopped while it was overloaded
        // (nothing queued, nothing dequeued) sees its queue drained and lets work in again.
        std::int64_t now = now_us();
        sample_delay(now);
        take_stale(now, stale);
        StageSample sample;
        sample.queue_depth = queue_.size();
        // Threads already asked to retire are no longer counted: the rule sees the pool it made.
        sample.threads = stats_.threads - retire_;
        sample.idle_threads = stats_.idle_threads - std::min(stats_.idle_threads, retire_);
        sample.completed = stats_.completed;
        decision = controller_.tick(sample);
        if (decision == StageDecision::grow) {
            start_thread();
        } else if (decision == StageDecision::shrink && sample.idle_threads > 0) {
            ++retire_;
        } else {
            decision = StageDecision::hold;
        }
    }
    if (decision == StageDecision::shrink) wake_.notify_all();
    // Work stuck behind threads that all block still gets its 503 in time.
    expire_stale(nullptr, stale, false);
    for (auto& worker : done) worker.thread.join();  // it has left worker_main's loop
    return decision;
}

StageStats Stage::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    StageStats copy = stats_;
    copy.queue_depth = queue_.size();
    return copy;
}

void Stage::stop() {
    std::list<Worker> all;
    std::deque<std::unique_ptr<StageWork>> dropped;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        dropped.swap(queue_);
        stats_.dequeued += dropped.size();
        all.swap(workers_);
    }
    wake_.notify_all();
    for (auto& worker : all) worker.thread.join();
    dropped.clear();  // outside the lock: dropping work may post to a loop
    std::lock_guard<std::mutex> lock(mutex_);
    spare_handlers_.clear();
}

}  // namespace c10k::engine
