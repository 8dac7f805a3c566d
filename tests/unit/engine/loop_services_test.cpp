// The loop services every event loop gives its handlers (http::LoopContext), checked over every
// loop type: the ReadinessLoop over each poller and the UringLoop. A loop runs on its own thread
// with a probe handler; the test talks to it through real sockets on 127.0.0.1, pipes, and the
// loop's mailbox.
//   - on_loop_start / on_loop_stop: on the loop's thread, once each, around every request;
//   - the mailbox: posts from other threads run on the loop's thread, in order;
//   - handler timers fire on a loop that nothing else wakes;
//   - the DescriptorWatcher: readable, writable, changing the events, unwatching (also from
//     inside on_ready), and the level-triggered promise of http/context.hpp;
//   - deferred responses end to end: answered later from another thread, in order with the
//     pipelined request behind them, streamed as chunks, and abandoned by a client that leaves.
//
// Waits are bounded (5 s); the absence of a report is checked after round trips through the
// loop's mailbox (settle()), never after a sleep.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "core/net.hpp"
#include "core/unique_fd.hpp"
#include "engine/engines.hpp"
#include "engine/poller_epoll.hpp"
#include "engine/pollers.hpp"
#include "engine/readiness_loop.hpp"
#include "engine/uring_loop.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"
#include "http/pending.hpp"
#include "support/http_client.hpp"

namespace c10k::engine {
namespace {

using namespace std::chrono_literals;
using test::HttpClient;
using test::HttpResponse;

constexpr auto kBound = 5s;  // the longest any single wait in these tests may take

/// Polls `condition` until it holds or kBound has passed; returns its last value.
template <class F>
bool eventually(F condition) {
    auto until = std::chrono::steady_clock::now() + kBound;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= until) return condition();
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

/// A deferred response the probe holds, and what happened to it. Used on the loop's thread,
/// except for the atomics.
struct Deferred final : http::PendingOwner {
    http::Pending pending;
    std::string path;
    std::atomic<int> closed_calls{0};
    std::atomic<bool> closed_on_loop_thread{false};
    std::thread::id loop_thread;

    void on_pending_closed() override {
        pending = http::Pending();  // as the contract asks: forget it at once
        closed_on_loop_thread = std::this_thread::get_id() == loop_thread;
        closed_calls.fetch_add(1, std::memory_order_release);
    }
};

/// The handler under every loop: records its life cycle and the requests it saw, answers
/// /now at once, and defers /defer and /stream (the latter opening a stream at once).
class Probe final : public http::Handler {
public:
    struct Event {
        std::string what;  ///< "start", "stop", or the path of a request
        std::thread::id thread;
    };

    explicit Probe(const StopSource& stop) : stop_(stop) {}

    void on_loop_start(http::LoopContext& context) override {
        loop_thread_ = std::this_thread::get_id();
        index_at_start_ = context.loop_index();
        descriptors_at_start_ = context.descriptors() != nullptr;
        record("start");
        context_.store(&context, std::memory_order_release);
    }

    void on_loop_stop(http::LoopContext&) override {
        stop_was_requested_ = stop_.requested();
        record("stop");
    }

    void handle(const http::Request& request, http::Response& response) override {
        std::string path(request.path());
        record(path);
        if (path == "/defer" || path == "/stream") {
            auto deferred = std::make_unique<Deferred>();
            deferred->path = path;
            deferred->loop_thread = loop_thread_;
            deferred->pending = response.defer(*deferred);
            if (path == "/stream") {
                http::Response head;
                head.add_header("Content-Type", "text/plain");
                deferred->pending.start_stream(head);
            }
            deferred_.push_back(std::move(deferred));
            deferred_count_.fetch_add(1, std::memory_order_release);
            return;
        }
        response.set_status(200);
        response.add_header("Content-Type", "text/plain");
        response.set_body("now\n");
    }

    /// The loop's context once on_loop_start ran; nullptr before.
    http::LoopContext* context() const { return context_.load(std::memory_order_acquire); }
    std::vector<Event> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }
    /// Read these only after context() is set (start) or the loop's thread ended (stop).
    std::size_t index_at_start() const { return index_at_start_; }
    bool descriptors_at_start() const { return descriptors_at_start_; }
    bool stop_was_requested() const { return stop_was_requested_; }

    int deferred_count() const { return deferred_count_.load(std::memory_order_acquire); }
    /// The i-th deferred response; its Pending only on the loop's thread.
    Deferred& deferred(std::size_t i) { return *deferred_.at(i); }

private:
    void record(std::string what) {
        std::lock_guard lock(mutex_);
        events_.push_back(Event{std::move(what), std::this_thread::get_id()});
    }

    const StopSource& stop_;
    std::atomic<http::LoopContext*> context_{nullptr};
    std::thread::id loop_thread_;
    std::size_t index_at_start_ = 0;
    bool descriptors_at_start_ = false;
    bool stop_was_requested_ = false;
    mutable std::mutex mutex_;
    std::vector<Event> events_;
    std::vector<std::unique_ptr<Deferred>> deferred_;  // the loop's thread only
    std::atomic<int> deferred_count_{0};
};

/// A loop type: a readiness poller, or (no poller) the io_uring loop.
struct LoopCase {
    std::string name;
    std::function<std::unique_ptr<Poller>()> make_poller;
};

/// Names the loop type in gtest's messages (instead of the object's bytes).
void PrintTo(const LoopCase& kind, std::ostream* out) {
    *out << kind.name;
}

std::vector<LoopCase> loop_cases() {
    return {
        {"epoll", [] { return make_epoll_poller(true); }},
        {"epoll_lt", [] { return make_epoll_poller(false); }},
        {"poll", [] { return make_poll_poller(); }},
        {"select", [] { return make_select_poller(); }},
        {"sigio", []() -> std::unique_ptr<Poller> { return make_sigio_poller(); }},
        {"uring", nullptr},
    };
}

/// One loop of the given type on its own thread, with a Probe handler and a listener on
/// 127.0.0.1 (ephemeral port). Declare it after whatever its tasks refer to: it stops (and
/// runs no more tasks) when it goes out of scope.
class RunningLoop {
public:
    RunningLoop(const LoopCase& kind, std::size_t loop_index) : budget_(0) {
        core::Endpoint endpoint;
        std::string error;
        EXPECT_TRUE(core::parse_endpoint("127.0.0.1:0", endpoint, error)) << error;
        listeners_ = std::make_unique<ListenerSet>(std::vector<core::Endpoint>{endpoint});
        port_ = listeners_->endpoints().front().port();
        config_.shutdown_grace_ms = 2000;
        auto fds = listeners_->for_loop();
        EXPECT_TRUE(fds.ok());
        auto handler = std::make_unique<Probe>(stop_);
        probe_ = handler.get();
        LoopShared shared{config_, budget_, stop_, -1, loop_index};
        if (kind.make_poller) {
            auto loop = std::make_unique<ReadinessLoop>(kind.make_poller(), std::move(fds.value()),
                                                        std::move(handler), shared);
            run_ = [loop = loop.get()] { return loop->run(); };
            readiness_ = std::move(loop);
        } else {
            auto loop =
                std::make_unique<UringLoop>(std::move(fds.value()), std::move(handler), shared);
            run_ = [loop = loop.get()] { return loop->run(); };
            uring_ = std::move(loop);
        }
        thread_ = std::thread([this] { result_ = run_(); });
    }
    ~RunningLoop() { stop(); }
    RunningLoop(const RunningLoop&) = delete;
    RunningLoop& operator=(const RunningLoop&) = delete;

    /// Stops the loop and waits for its thread; returns run()'s result.
    int stop() {
        stop_.request();
        if (thread_.joinable()) thread_.join();
        return result_;
    }

    int port() const { return port_; }
    Probe& probe() { return *probe_; }
    std::thread::id thread_id() const { return thread_id_; }

    /// Waits for on_loop_start; false if it did not come within the bound.
    bool started() {
        if (!eventually([this] { return probe_->context() != nullptr; })) return false;
        thread_id_ = thread_.get_id();
        return true;
    }
    http::LoopContext& context() { return *probe_->context(); }

    /// Runs `work` on the loop's thread (through its mailbox) and waits for it to finish.
    bool run_on_loop(std::function<void()> work) {
        auto done = std::make_shared<std::promise<void>>();
        auto finished = done->get_future();
        context().mailbox().post([work = std::move(work), done] {
            work();
            done->set_value();
        });
        return finished.wait_for(kBound) == std::future_status::ready;
    }

    /// A few round trips through the mailbox: whatever was ready before this call has been
    /// reported to its task by the time it returns (the loop waits on all its sources at once).
    bool settle() {
        for (int i = 0; i < 3; ++i) {
            if (!run_on_loop([] {})) return false;
        }
        return true;
    }

private:
    ServerConfig config_;
    ConnectionBudget budget_;
    StopSource stop_;
    std::unique_ptr<ListenerSet> listeners_;
    Probe* probe_ = nullptr;
    std::unique_ptr<ReadinessLoop> readiness_;
    std::unique_ptr<UringLoop> uring_;
    std::function<int()> run_;
    std::thread thread_;
    std::thread::id thread_id_;
    int port_ = 0;
    int result_ = -1;
};

/// A DescriptorTask that counts its reports (then does what the test asks, on the loop's
/// thread). The counters are raised after `then`, so what `then` did is visible once they are.
class WatchProbe final : public http::DescriptorTask {
public:
    std::function<void(std::uint32_t)> then;  // set before watching
    std::atomic<int> calls{0};
    std::atomic<int> readable_calls{0};
    std::atomic<int> writable_calls{0};

    void on_ready(std::uint32_t events) override {
        if (then) then(events);
        if (events & readable) readable_calls.fetch_add(1, std::memory_order_release);
        if (events & writable) writable_calls.fetch_add(1, std::memory_order_release);
        calls.fetch_add(1, std::memory_order_release);
    }
};

struct Pipe {
    core::unique_fd read_end, write_end;
};

Pipe make_pipe() {
    int fds[2] = {-1, -1};
    EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    return Pipe{core::unique_fd(fds[0]), core::unique_fd(fds[1])};
}

struct SocketPair {
    core::unique_fd ours, theirs;
};

SocketPair make_socket_pair() {
    int fds[2] = {-1, -1};
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    return SocketPair{core::unique_fd(fds[0]), core::unique_fd(fds[1])};
}

/// Reads what `fd` holds now, up to EAGAIN.
std::string drain(int fd) {
    std::string got;
    char buffer[256];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) return got;
        got.append(buffer, static_cast<std::size_t>(n));
    }
}

/// True when bytes from the server are waiting on the client's socket right now.
bool bytes_waiting(int fd) {
    pollfd wait{fd, POLLIN, 0};
    return ::poll(&wait, 1, 0) > 0;
}

/// Waits (bounded) for bytes on `fd` and returns them without consuming them.
std::string peek(int fd) {
    pollfd wait{fd, POLLIN, 0};
    if (::poll(&wait, 1, static_cast<int>(kBound / 1ms)) <= 0) return "<timeout>";
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_PEEK);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "<closed>";
}

class LoopServices : public ::testing::TestWithParam<LoopCase> {
protected:
    void SetUp() override {
        // Every loop type runs here: a backend that does not work on this machine is a
        // failure, with its reason, never a skip.
        if (!GetParam().make_poller) {
            std::string why = uring_unavailable_reason();
            ASSERT_TRUE(why.empty()) << "io_uring does not work here: " << why;
        }
    }
};

// ---- 1. on_loop_start and on_loop_stop ----------------------------------------------------

TEST_P(LoopServices, LoopStartComesFirstOnTheLoopThreadAndLoopStopOnceAfterStop) {
    RunningLoop loop(GetParam(), 3);
    // A client that connects at once, without waiting for the start: its request must still
    // come after on_loop_start.
    HttpClient client(loop.port());
    client.send_get("/now");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.body, "now\n");
    ASSERT_TRUE(loop.started());
    EXPECT_EQ(loop.probe().index_at_start(), 3u);
    EXPECT_EQ(loop.context().loop_index(), 3u);
    EXPECT_TRUE(loop.probe().descriptors_at_start());
    std::thread::id loop_thread = loop.thread_id();
    for (const auto& event : loop.probe().events()) EXPECT_NE(event.what, "stop");

    EXPECT_EQ(loop.stop(), 0);
    auto events = loop.probe().events();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].what, "start");
    EXPECT_EQ(events[1].what, "/now");
    EXPECT_EQ(events[2].what, "stop");
    for (const auto& event : events) {
        EXPECT_EQ(event.thread, loop_thread) << event.what << " ran on another thread";
    }
    EXPECT_TRUE(loop.probe().stop_was_requested());
}

// ---- 2. the mailbox ------------------------------------------------------------------------

TEST_P(LoopServices, MailboxRunsAThousandPostsInOrderOnTheLoopThread) {
    constexpr int kPosts = 1000;
    std::vector<int> order;  // the loop's thread only, until `ran` says all are done
    std::atomic<int> ran{0};
    std::atomic<int> elsewhere{0};
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    std::thread::id loop_thread = loop.thread_id();
    for (int i = 0; i < kPosts; ++i) {
        loop.context().mailbox().post([&, i, loop_thread] {
            if (std::this_thread::get_id() != loop_thread) elsewhere.fetch_add(1);
            order.push_back(i);
            ran.fetch_add(1, std::memory_order_release);
        });
    }
    ASSERT_TRUE(eventually([&] { return ran.load(std::memory_order_acquire) == kPosts; }))
        << ran.load() << " of " << kPosts << " posts ran";
    EXPECT_EQ(elsewhere.load(), 0);
    ASSERT_EQ(order.size(), static_cast<std::size_t>(kPosts));
    for (int i = 0; i < kPosts; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST_P(LoopServices, MailboxRunsEveryPostFromTwoThreadsAtOnce) {
    constexpr int kPostsEach = 1000;
    std::vector<std::pair<int, int>> seen;  // (poster, sequence); the loop's thread only
    std::atomic<int> ran{0};
    std::atomic<int> elsewhere{0};
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    std::thread::id loop_thread = loop.thread_id();
    core::Mailbox& mailbox = loop.context().mailbox();
    std::latch together(2);
    auto poster = [&](int who) {
        together.arrive_and_wait();
        for (int i = 0; i < kPostsEach; ++i) {
            mailbox.post([&, who, i, loop_thread] {
                if (std::this_thread::get_id() != loop_thread) elsewhere.fetch_add(1);
                seen.emplace_back(who, i);
                ran.fetch_add(1, std::memory_order_release);
            });
        }
    };
    std::thread first(poster, 0);
    std::thread second(poster, 1);
    first.join();
    second.join();
    ASSERT_TRUE(eventually([&] { return ran.load(std::memory_order_acquire) == 2 * kPostsEach; }))
        << ran.load() << " of " << 2 * kPostsEach << " posts ran";
    EXPECT_EQ(elsewhere.load(), 0);
    // Each poster's tasks ran once each, in the order it posted them.
    int next[2] = {0, 0};
    for (auto [who, i] : seen) {
        ASSERT_EQ(i, next[who]) << "poster " << who;
        ++next[who];
    }
    EXPECT_EQ(next[0], kPostsEach);
    EXPECT_EQ(next[1], kPostsEach);
}

// ---- 3. handler timers ---------------------------------------------------------------------

struct CountingTimer final : http::TimerTask {
    std::atomic<int> fired{0};
    std::atomic<bool> on_loop_thread{false};
    std::thread::id loop_thread;
    void on_timer() override {
        on_loop_thread = std::this_thread::get_id() == loop_thread;
        fired.fetch_add(1);
    }
};

TEST_P(LoopServices, HandlerTimerFiresOnAnIdleLoop) {
    CountingTimer timer;
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    timer.loop_thread = loop.thread_id();
    // Scheduled from a posted task; after it, nothing but the timer can wake the loop: no
    // client, no other post.
    ASSERT_TRUE(loop.run_on_loop([&] {
        http::LoopContext& context = loop.context();
        context.timers().schedule(timer, context.now_ms() + 250);
    }));
    EXPECT_TRUE(eventually([&] { return timer.fired.load() > 0; })) << "the timer never fired";
    EXPECT_EQ(timer.fired.load(), 1);
    EXPECT_TRUE(timer.on_loop_thread.load());
}

// ---- 4. the DescriptorWatcher --------------------------------------------------------------

TEST_P(LoopServices, WatchedPipeReportsReadableUntilUnwatched) {
    Pipe pipe = make_pipe();
    WatchProbe task;
    std::string received;  // the loop's thread only, until task.calls says so
    task.then = [&](std::uint32_t) { received += drain(pipe.read_end.get()); };
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    bool watched = false;
    ASSERT_TRUE(loop.run_on_loop([&] {
        watched = loop.context().descriptors()->watch(pipe.read_end.get(),
                                                      http::DescriptorTask::readable, task);
    }));
    ASSERT_TRUE(watched);
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(task.calls.load(), 0) << "reported before anything was written";

    ASSERT_EQ(::write(pipe.write_end.get(), "ab", 2), 2);
    ASSERT_TRUE(eventually([&] { return task.readable_calls.load() > 0; }));
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(received, "ab");

    ASSERT_TRUE(
        loop.run_on_loop([&] { loop.context().descriptors()->unwatch(pipe.read_end.get()); }));
    int calls = task.calls.load();
    ASSERT_EQ(::write(pipe.write_end.get(), "c", 1), 1);
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(task.calls.load(), calls) << "reported after unwatch";
    EXPECT_EQ(drain(pipe.read_end.get()), "c") << "the byte written after unwatch was taken";
}

TEST_P(LoopServices, WatchedDescriptorIsReportedAgainWhileItStaysReady) {
    // http::DescriptorWatcher promises level-triggered semantics: a task that leaves bytes
    // unread (a proxy whose client is slow, say) hears about them again without new input.
    Pipe pipe = make_pipe();
    WatchProbe task;
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    ASSERT_EQ(::write(pipe.write_end.get(), "x", 1), 1);
    ASSERT_TRUE(loop.run_on_loop([&] {
        loop.context().descriptors()->watch(pipe.read_end.get(), http::DescriptorTask::readable,
                                            task);
    }));
    EXPECT_TRUE(eventually([&] { return task.readable_calls.load() >= 3; }))
        << "a pipe left readable was reported " << task.readable_calls.load()
        << " time(s), not again and again";
    ASSERT_TRUE(
        loop.run_on_loop([&] { loop.context().descriptors()->unwatch(pipe.read_end.get()); }));
}

TEST_P(LoopServices, WatchedSocketReportsWritableAndMayUnwatchAndCloseInsideOnReady) {
    SocketPair pair = make_socket_pair();
    Pipe next = make_pipe();  // watched from inside on_ready, once the first is gone
    WatchProbe first, second;
    http::LoopContext* context = nullptr;
    std::string received;  // the loop's thread only, until second.calls says so
    first.then = [&](std::uint32_t events) {
        if (!(events & http::DescriptorTask::writable)) return;
        // Done with it: unwatch, close, and watch another descriptor, all from here.
        context->descriptors()->unwatch(pair.ours.get());
        pair.ours.reset();
        context->descriptors()->watch(next.read_end.get(), http::DescriptorTask::readable, second);
    };
    second.then = [&](std::uint32_t) { received += drain(next.read_end.get()); };
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    context = &loop.context();
    ASSERT_TRUE(loop.run_on_loop([&] {
        context->descriptors()->watch(pair.ours.get(), http::DescriptorTask::writable, first);
    }));
    ASSERT_TRUE(eventually([&] { return first.calls.load() > 0; }));
    ASSERT_TRUE(loop.settle());
    // A socket stays writable: only the unwatch inside on_ready kept it from coming again.
    EXPECT_EQ(first.calls.load(), 1);
    EXPECT_EQ(first.writable_calls.load(), 1);

    ASSERT_EQ(::write(next.write_end.get(), "z", 1), 1);
    ASSERT_TRUE(eventually([&] { return second.readable_calls.load() > 0; }));
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(received, "z");
    EXPECT_EQ(first.calls.load(), 1);
    ASSERT_TRUE(loop.run_on_loop([&] { context->descriptors()->unwatch(next.read_end.get()); }));
}

TEST_P(LoopServices, SecondWatchChangesTheEventsWatched) {
    SocketPair pair = make_socket_pair();
    WatchProbe task;
    http::LoopContext* context = nullptr;
    std::atomic<int> writable_at_switch{-1};
    std::string received;  // the loop's thread only, until task.readable_calls says so
    task.then = [&](std::uint32_t events) {
        if ((events & http::DescriptorTask::writable) && writable_at_switch.load() < 0) {
            // From inside on_ready: readable only from now on.
            writable_at_switch = task.writable_calls.load() + 1;
            context->descriptors()->watch(pair.ours.get(), http::DescriptorTask::readable, task);
        }
        if (events & http::DescriptorTask::readable) received += drain(pair.ours.get());
    };
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    context = &loop.context();
    auto watch = [&](std::uint32_t events) {
        bool ok = false;
        EXPECT_TRUE(loop.run_on_loop(
            [&] { ok = context->descriptors()->watch(pair.ours.get(), events, task); }));
        return ok;
    };
    // Readable only, with nothing to read: a writable socket is not reported.
    ASSERT_TRUE(watch(http::DescriptorTask::readable));
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(task.calls.load(), 0);
    // A second watch() for writable takes effect: reported writable, once (the task switches
    // back to readable at its first report).
    ASSERT_TRUE(watch(http::DescriptorTask::writable));
    ASSERT_TRUE(eventually([&] { return task.writable_calls.load() > 0; }));
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(task.writable_calls.load(), writable_at_switch.load());
    EXPECT_EQ(task.writable_calls.load(), 1);
    EXPECT_EQ(task.readable_calls.load(), 0);
    // Readable again: the peer's bytes are reported, and still no writable.
    ASSERT_EQ(::write(pair.theirs.get(), "hi", 2), 2);
    ASSERT_TRUE(eventually([&] { return task.readable_calls.load() > 0; }));
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(received, "hi");
    EXPECT_EQ(task.writable_calls.load(), 1);
    ASSERT_TRUE(loop.run_on_loop([&] { context->descriptors()->unwatch(pair.ours.get()); }));
}

TEST_P(LoopServices, EventsChangedFromAPostedTaskAreTheOnlyOnesReportedAfter) {
    // The change above was made inside on_ready; here it comes from a posted task, while the
    // old events may already be on their way. Once watch() has returned, no report may carry
    // an event the task no longer watches for. Several rounds: the window is narrow on some
    // backends.
    SocketPair pair = make_socket_pair();
    WatchProbe task;
    http::LoopContext* context = nullptr;
    bool switched = false;  // the loop's thread only
    int stale = 0;          // likewise; read after settle()
    task.then = [&](std::uint32_t events) {
        if (switched && (events & http::DescriptorTask::writable)) ++stale;
    };
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    context = &loop.context();
    int writable_so_far = 0;
    for (int round = 0; round < 3; ++round) {
        ASSERT_TRUE(loop.run_on_loop([&] {
            switched = false;
            context->descriptors()->watch(pair.ours.get(), http::DescriptorTask::writable, task);
        }));
        ASSERT_TRUE(eventually([&] { return task.writable_calls.load() > writable_so_far; }));
        ASSERT_TRUE(loop.run_on_loop([&] {
            context->descriptors()->watch(pair.ours.get(), http::DescriptorTask::readable, task);
            switched = true;
        }));
        ASSERT_TRUE(loop.settle());
        writable_so_far = task.writable_calls.load();
    }
    EXPECT_EQ(stale, 0) << "writable reported after the watch was changed to readable only";
    ASSERT_TRUE(loop.run_on_loop([&] { context->descriptors()->unwatch(pair.ours.get()); }));
}

// ---- 5. deferred responses -----------------------------------------------------------------

/// Posts `work` to the loop's mailbox from a thread of its own (not the test's, not the loop's).
void post_from_another_thread(http::LoopContext& context, std::function<void()> work) {
    std::thread poster([&] { context.mailbox().post(std::move(work)); });
    poster.join();
}

TEST_P(LoopServices, DeferredAnswerFromAnotherThreadComesBeforeThePipelinedRequest) {
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    Probe& probe = loop.probe();
    HttpClient client(loop.port());
    client.send(
        "GET /defer HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /now HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return probe.deferred_count() == 1; }));
    ASSERT_TRUE(loop.settle());
    EXPECT_FALSE(bytes_waiting(client.fd())) << "answered before the deferred response was";
    for (const auto& event : probe.events()) EXPECT_NE(event.what, "/now") << "parsed too early";

    post_from_another_thread(loop.context(), [&probe] {
        http::Response later;
        later.set_status(200);
        later.add_header("Content-Type", "text/plain");
        later.set_body("later\n");
        probe.deferred(0).pending.respond(later);
        probe.deferred(0).pending = http::Pending();
    });
    HttpResponse first, second;
    ASSERT_TRUE(client.read_response(first)) << client.error();
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.body, "later\n");
    ASSERT_TRUE(client.read_response(second)) << client.error();
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, "now\n");
    EXPECT_EQ(probe.deferred(0).closed_calls.load(), 0);
}

TEST_P(LoopServices, DeferredStreamIsChunkedAndTheConnectionStaysAlive) {
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    Probe& probe = loop.probe();
    HttpClient client(loop.port());
    client.send(
        "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /now HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(eventually([&] { return probe.deferred_count() == 1; }));
    // start_stream sent the head at once, before any write.
    std::string head = peek(client.fd());
    EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << head;
    EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head;

    // Each write in a post of its own, then the end: four wake-ups of the loop from elsewhere.
    for (const char* piece : {"alpha\n", "beta\n", "gamma\n"}) {
        post_from_another_thread(loop.context(),
                                 [&probe, piece] { probe.deferred(0).pending.write(piece); });
    }
    post_from_another_thread(loop.context(), [&probe] {
        probe.deferred(0).pending.finish();
        probe.deferred(0).pending = http::Pending();
    });
    HttpResponse stream, next;
    ASSERT_TRUE(client.read_response(stream)) << client.error();
    EXPECT_EQ(stream.status, 200);
    EXPECT_EQ(stream.header("transfer-encoding"), "chunked");
    EXPECT_FALSE(stream.has_header("content-length"));
    EXPECT_EQ(stream.body, "alpha\nbeta\ngamma\n");
    ASSERT_TRUE(client.read_response(next)) << client.error();
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.body, "now\n");
    // Still alive after both: one more request on the same connection.
    client.send_get("/now");
    ASSERT_TRUE(client.read_response(next)) << client.error();
    EXPECT_EQ(next.body, "now\n");
}

TEST_P(LoopServices, ClientThatLeavesWhileDeferredTellsTheOwnerOnTheLoopThread) {
    RunningLoop loop(GetParam(), 0);
    ASSERT_TRUE(loop.started());
    Probe& probe = loop.probe();
    {
        // A clean close (FIN) while the answer is deferred.
        HttpClient client(loop.port());
        client.send_get("/defer");
        ASSERT_TRUE(eventually([&] { return probe.deferred_count() == 1; }));
    }
    {
        // A reset (RST: SO_LINGER 0) while a stream is open.
        HttpClient client(loop.port());
        client.send_get("/stream");
        ASSERT_TRUE(eventually([&] { return probe.deferred_count() == 2; }));
        linger reset{1, 0};
        ASSERT_EQ(::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
    }
    // Promptly: long before any timeout of the server's (a waiting response has none).
    for (std::size_t i = 0; i < 2; ++i) {
        Deferred& deferred = probe.deferred(i);
        EXPECT_TRUE(eventually([&] { return deferred.closed_calls.load() > 0; }))
            << deferred.path << ": the owner was not told";
        EXPECT_TRUE(deferred.closed_on_loop_thread.load()) << deferred.path;
    }
    ASSERT_TRUE(loop.settle());
    EXPECT_EQ(probe.deferred(0).closed_calls.load(), 1);
    EXPECT_EQ(probe.deferred(1).closed_calls.load(), 1);
    // The loop goes on serving.
    HttpClient after(loop.port());
    after.send_get("/now");
    HttpResponse response;
    ASSERT_TRUE(after.read_response(response)) << after.error();
    EXPECT_EQ(response.body, "now\n");
    EXPECT_EQ(loop.stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(EveryLoop, LoopServices, ::testing::ValuesIn(loop_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace c10k::engine
