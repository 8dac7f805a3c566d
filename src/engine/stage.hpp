#pragma once
// One stage of the staged engine: an input queue and a pool of threads that take work from it,
// sized by a StageController (SEDA's stage: event queue + thread pool + controller). Loops push
// work from their threads; the engine's controller thread calls control() at each tick.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/overload.hpp"
#include "engine/engine.hpp"
#include "engine/stage_controller.hpp"

namespace c10k::engine {

/// A piece of work queued to a stage. run() is called on one of the stage's threads with that
/// thread's own handler instance (null for stages made without a HandlerFactory) and the
/// pointer that owns the work, so that the work may pass itself on to its next stage.
class StageWork {
public:
    virtual ~StageWork() = default;
    virtual void run(http::Handler* handler, std::unique_ptr<StageWork>& self) = 0;
    /// An overloaded stage found this work waiting longer than its target: answer it at once
    /// without doing it (a canned 503) and return true, or return false when it cannot be
    /// (its answer has begun), and it is run as usual.
    virtual bool expire(std::unique_ptr<StageWork>& /*self*/) { return false; }

private:
    friend class Stage;
    std::int64_t enqueued_us_ = 0;
};

/// What a stage looks like now, for the controller, the log and /metrics.
struct StageStats {
    std::size_t queue_depth = 0;
    std::uint32_t threads = 0;
    std::uint32_t idle_threads = 0;
    std::uint64_t enqueued = 0;
    std::uint64_t dequeued = 0;
    std::uint64_t completed = 0;
    std::uint64_t wait_us = 0;  ///< summed queueing delay of what was dequeued
    std::uint64_t threads_started = 0;
    std::uint64_t threads_stopped = 0;
    std::uint64_t taken_newest_first = 0;  ///< dequeued LIFO, while the stage was overloaded
    std::uint64_t expired = 0;  ///< answered 503 unrun: waited past the target while overloaded
};

class Stage {
public:
    /// `handlers`, when given, makes one handler per thread; a thread that retires leaves its
    /// handler (and its warm cache) to the next thread started.
    Stage(std::string name, ControllerRule rule, HandlerFactory handlers = {});
    ~Stage();
    Stage(const Stage&) = delete;
    Stage& operator=(const Stage&) = delete;

    const std::string& name() const { return name_; }
    /// Overload control of this stage's queue (--overload-target; before start()). The delay
    /// is the age of the oldest work still queued, sampled at each dequeue and each controller
    /// tick, and fed to a core::OverloadDetector (CoDel's rule). While overloaded, threads take
    /// the newest work first (Meta's adaptive LIFO: under a standing queue the newest request
    /// is the one whose client still waits), work that waited longer than the target is
    /// expired (StageWork::expire; Meta's CoDel queue timeout), and overload() says so to
    /// whoever admits work.
    void enable_overload(std::int64_t target_us);
    const core::OverloadState& overload() const { return overload_state_; }
    /// Where the admitting side counts what it shed, logged by the controller once a second.
    core::ShedReport& shed_report() { return shed_report_; }
    std::int64_t overload_target_us() const { return overload_target_us_; }
    /// The oldest queued work's age at the last sample (0 when off or empty).
    std::int64_t queue_delay_us() const { return queue_delay_us_.load(std::memory_order_relaxed); }
    /// Starts the minimum number of threads.
    void start();
    /// Queues work from any thread; false (and `work` is kept by the caller) once stopped.
    bool push(std::unique_ptr<StageWork>& work);
    /// One controller tick: samples, decides, adds or retires a thread, joins retired ones.
    StageDecision control();
    StageStats stats() const;
    /// Stops every thread after the work it is running; queued work is dropped. Idempotent.
    void stop();

private:
    struct Worker {
        std::thread thread;
        bool finished = false;  ///< guarded by mutex_: ready to be joined
    };
    void start_thread();  // mutex_ held
    void sample_delay(std::int64_t now_us);  // mutex_ held
    /// While overloaded, moves the work that waited past the target (the oldest, at the
    /// front) to `stale`, to be expired outside the lock. mutex_ held.
    void take_stale(std::int64_t now_us, std::vector<std::unique_ptr<StageWork>>& stale);
    /// Expires what take_stale took; what cannot be expired is run `on_worker`, or queued
    /// again at the front from the controller. mutex_ not held.
    void expire_stale(http::Handler* handler, std::vector<std::unique_ptr<StageWork>>& stale,
                      bool on_worker);
    void worker_main(Worker* self);

    std::string name_;
    HandlerFactory handlers_;
    StageController controller_;  // the controller thread only
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<StageWork>> queue_;                // guarded by mutex_
    std::list<Worker> workers_;                                   // guarded by mutex_
    std::vector<std::unique_ptr<http::Handler>> spare_handlers_;  // guarded by mutex_
    StageStats stats_;                                            // guarded by mutex_
    std::uint32_t retire_ = 0;  ///< idle threads asked to exit; guarded by mutex_
    bool stopping_ = false;     // guarded by mutex_
    std::int64_t overload_target_us_ = 0;
    std::unique_ptr<core::OverloadDetector> detector_;  // guarded by mutex_; null: off
    core::OverloadState overload_state_;
    std::atomic<std::int64_t> queue_delay_us_{0};
    core::ShedReport shed_report_;
};

}  // namespace c10k::engine
