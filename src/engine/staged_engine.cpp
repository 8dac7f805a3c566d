// The staged engine ("Chamomile", after SEDA: Welsh, Culler and Brewer, SOSP 2001). A request
// goes through stages joined by queues, each stage with a thread pool of its own size:
//   1. accept, read and parse: event loops (the epoll readiness loop, --threads of them);
//   2. handle: the handler runs on a pool thread, with an instance per thread;
//   3. file: a pool reads ahead what the page cache lacks, so no thread that serves many
//      clients waits for the disk;
//   4. write: the response goes back to its loop through the loop's mailbox, and the loop sends.
// A controller per stage sizes each pool from its queue and throughput (stage_controller.hpp);
// the pools, their queues and queueing delay are in /metrics and in the log. docs/STAGED.md.

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <thread>

#include <fmt/core.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "engine/poller_epoll.hpp"
#include "engine/stage.hpp"
#include "engine/staged_dispatch.hpp"

namespace c10k::engine {

namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr int kTicksPerLog = 10;  // the log tells of changes at most once a second
constexpr std::uint32_t kMostThreadsPerStage = 1024;

/// Ticks every stage's controller, copies the stages' counters into /metrics, and logs the
/// pools when they changed. One thread for all stages: a tick is a few lock/unlock pairs.
class ControllerThread {
public:
    ControllerThread(std::vector<Stage*> stages, http::MetricsBoard* board)
        : stages_(std::move(stages)), slot_(board), last_(stages_.size()), logged_(stages_.size()) {
        thread_ = std::thread([this] { run(); });
    }
    ~ControllerThread() { stop(); }

    void stop() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    void run() {
        // The first pools are in /metrics from the start, not from the first tick on.
        publish(false);
        std::unique_lock<std::mutex> lock(mutex_);
        for (int tick = 1;; ++tick) {
            if (wake_.wait_for(lock, kTick, [this] { return stopping_; })) return;
            lock.unlock();
            for (Stage* stage : stages_) {
                stage->control();
                if (stage->overload_target_us() > 0) {
                    std::string where = stage->name() + " stage";
                    stage->shed_report().maybe_log(core::monotonic_us() / 1000, where.c_str(),
                                                   stage->overload_target_us());
                }
            }
            publish(tick % kTicksPerLog == 0);
            lock.lock();
        }
    }

    void publish(bool log_now) {
        std::string line;
        bool changed = false;
        for (std::size_t k = 0; k < stages_.size(); ++k) {
            StageStats now = stages_[k]->stats();
            StageStats& was = last_[k];
            if (http::LoopMetrics* m = slot_.get(); m != nullptr && k < http::kStages) {
                m->stage_enqueued[k].add(now.enqueued - was.enqueued);
                m->stage_dequeued[k].add(now.dequeued - was.dequeued);
                m->stage_wait_us[k].add(now.wait_us - was.wait_us);
                m->stage_threads_started[k].add(now.threads_started - was.threads_started);
                m->stage_threads_stopped[k].add(now.threads_stopped - was.threads_stopped);
            }
            was = now;
            if (!log_now) continue;
            StageStats& told = logged_[k];
            changed = changed || now.threads != told.threads || now.queue_depth != told.queue_depth;
            std::uint64_t taken = now.dequeued - told.dequeued;
            double mean_wait_ms =
                taken == 0 ? 0.0 : static_cast<double>(now.wait_us - told.wait_us) / taken / 1000;
            line += fmt::format("{}{} {} thread{} ({} idle), queue {}, mean wait {:.1f} ms",
                                line.empty() ? "" : "; ", stages_[k]->name(), now.threads,
                                now.threads == 1 ? "" : "s", now.idle_threads, now.queue_depth,
                                mean_wait_ms);
        }
        if (!log_now) return;
        for (std::size_t k = 0; k < stages_.size(); ++k) logged_[k] = last_[k];
        if (changed) core::log(core::LogLevel::info, "staged: {}", line);
    }

    std::vector<Stage*> stages_;
    http::MetricsSlot slot_;
    std::vector<StageStats> last_;    ///< at the last tick: the base of the metrics' deltas
    std::vector<StageStats> logged_;  ///< at the last log line
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;  // guarded by mutex_
    std::thread thread_;
};

std::int64_t handler_delay_from_environment() {
    const char* text = std::getenv("C10K_STAGED_HANDLER_DELAY_MS");
    if (text == nullptr) return 0;
    return std::max<long long>(std::atoll(text), 0);
}

class StagedEngine final : public Engine {
public:
    std::string_view name() const override { return "staged"; }
    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        std::vector<std::unique_ptr<LoopLink>> links;
        for (int i = 0; i < std::max(config.threads, 1); ++i) {
            links.push_back(std::make_unique<LoopLink>());
        }
        ControllerRule handler_rule;
        handler_rule.bounds = config.staged.handler;
        ControllerRule file_rule;
        file_rule.bounds = config.staged.file;
        // Declared after the links and before the controller: stopped (their threads joined)
        // after the controller and before the links go.
        Stage handler_stage("handler", handler_rule, handlers);
        Stage file_stage("file", file_rule);
        StageServices services;
        services.handler_stage = &handler_stage;
        services.file_stage = &file_stage;
        services.links = &links;
        services.handler_delay_ms = handler_delay_from_environment();
        // Overload control by the handler stage's queue delay, besides the loops' own lag
        // (docs/OVERLOAD.md): the loops hand requests off at once, so their lag stays small
        // while the work waits here.
        handler_stage.enable_overload(config.overload_target_us);
        handler_stage.start();
        file_stage.start();
        ControllerThread controller({&handler_stage, &file_stage}, config.metrics);
        HandlerFactory loop_handlers = [&handlers, &services]() -> std::unique_ptr<http::Handler> {
            return std::make_unique<StageDispatcher>(handlers(), services);
        };
        int result = run_readiness_loops(config, loop_handlers, listeners, stop,
                                         [] { return make_epoll_poller(true); });
        controller.stop();
        handler_stage.stop();
        file_stage.stop();
        return result;
    }
};

bool parse_count(std::string_view text, std::uint32_t& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

std::unique_ptr<Engine> make_staged_engine() {
    return std::make_unique<StagedEngine>();
}

bool parse_stage_threads(std::string_view spec, StagedConfig& config, std::string& error) {
    auto fail = [&](std::string_view why) {
        error = fmt::format(
            "--stage-threads '{}': {} (expected STAGE=MIN..MAX or STAGE=N, STAGE one of "
            "handler, file; e.g. handler=2..16)",
            spec, why);
        return false;
    };
    std::size_t equals = spec.find('=');
    if (equals == std::string_view::npos) return fail("no '='");
    std::string_view stage = spec.substr(0, equals);
    std::string_view range = spec.substr(equals + 1);
    StageBounds* bounds = nullptr;
    if (stage == "handler") bounds = &config.handler;
    if (stage == "file") bounds = &config.file;
    if (bounds == nullptr) return fail(fmt::format("unknown stage '{}'", stage));
    std::size_t dots = range.find("..");
    std::uint32_t low = 0;
    std::uint32_t high = 0;
    bool parsed =
        dots == std::string_view::npos
            ? parse_count(range, low) && parse_count(range, high)
            : parse_count(range.substr(0, dots), low) && parse_count(range.substr(dots + 2), high);
    if (!parsed) return fail("the thread counts must be whole numbers");
    if (low < 1) return fail("a stage needs at least 1 thread");
    if (low > high) return fail("MIN is larger than MAX");
    if (high > kMostThreadsPerStage) {
        return fail(fmt::format("at most {} threads per stage", kMostThreadsPerStage));
    }
    bounds->min_threads = low;
    bounds->max_threads = high;
    return true;
}

}  // namespace c10k::engine
