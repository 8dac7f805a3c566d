// Thread per connection, the architecture C10K started from: one acceptor thread, and for each
// client a thread that blocks on that client alone (BlockingWorker). Threads are created with
// small stacks (--thread-stack, default 64 KB) because their number, not their work, is what
// costs; beyond a cap (--max-connections, default 1024 when 0) new clients get a canned 503.
//
// To a handler every connection thread is an event loop of its own (its own handler, mailbox
// and timers), numbered 1..cap from a free list so that handlers keeping per-loop state in
// something process-wide (the push Registry) see a fixed number of loops. Loop 0 is the
// acceptor: it holds no connection, but it lives as long as the server, so a handler's
// process-wide timers and links (the push demo's publisher, a --processes group's stream) that
// run on loop 0 do not come and go with one client.

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "engine/admission.hpp"
#include "engine/blocking_connection.hpp"
#include "engine/engines.hpp"
#include "engine/loop_runner.hpp"
#include "http/context.hpp"
#include "http/poll_watcher.hpp"

namespace c10k::engine {

namespace {

/// Cap when --max-connections is 0: threads are not free (stack, scheduler), and an
/// unbounded number would let a connection flood exhaust memory.
constexpr std::uint64_t kDefaultThreadCap = 1024;

std::uint64_t thread_cap(const ServerConfig& config) {
    return config.max_connections != 0 ? config.max_connections : kDefaultThreadCap;
}

/// Everything the connection threads share. run() waits for every thread to finish before it
/// frees this; if some outlive the grace period it is leaked, not freed under them.
struct ThreadShared {
    const ServerConfig& config;
    const HandlerFactory& handlers;
    StopSource& stop;
    int access_log_fd;
    std::mutex mutex;
    std::condition_variable all_done;
    std::uint64_t live = 0;
    /// Loop numbers no thread holds (1..cap; 0 is the acceptor's). There are cap of them, and
    /// at most cap threads, so a thread admitted under the cap always finds one.
    std::vector<std::size_t> free_loops;
};

struct ThreadStart {
    ThreadShared* shared;
    int fd;
    std::size_t loop;
    std::uint8_t listener;  ///< index of the --listen address it was accepted on
};

void* connection_thread(void* argument) {
    std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(argument));
    ThreadShared& shared = *start->shared;
    {
        core::unique_fd fd(start->fd);
        try {
            // Built per thread: a handler and loop context are never shared between threads.
            BlockingWorker worker(shared.config, shared.handlers, shared.stop,
                                  shared.access_log_fd);
            worker.set_loop_index(start->loop);
            worker.serve(fd.get(), start->listener);
        } catch (const std::exception& e) {
            // The handler could not be built (out of descriptors or memory): this client gets
            // the answer of a full server, and the process lives on.
            static std::atomic<std::int64_t> last_log_ms{0};
            std::int64_t now = core::monotonic_ms();
            std::int64_t last = last_log_ms.load(std::memory_order_relaxed);
            if (now - last >= 1000 && last_log_ms.compare_exchange_strong(last, now)) {
                core::log(core::LogLevel::warn, "cannot serve a connection: {}", e.what());
            }
            reject_busy(std::move(fd));
        }
    }
    // The worker is gone, and its handler has left the loop: the number may be reused.
    std::lock_guard lock(shared.mutex);
    shared.free_loops.push_back(start->loop);
    if (--shared.live == 0) shared.all_done.notify_all();
    return nullptr;
}

class ThreadEngine final : public Engine {
public:
    std::string_view name() const override { return "thread"; }
    bool listens_per_loop() const override { return false; }

    int run(const ServerConfig& config, const HandlerFactory& handlers, ListenerSet& listeners,
            StopSource& stop) override {
        AccessLogFile access_log = open_access_log(config);
        auto* state = new ThreadShared{config, handlers, stop, access_log.get(), {}, {}, 0, {}};
        ThreadShared& shared = *state;
        std::uint64_t cap = thread_cap(config);
        // Highest first, so that the lowest free number is taken next (a vector used as a stack).
        shared.free_loops.reserve(cap);
        for (std::uint64_t loop = cap; loop >= 1; --loop) shared.free_loops.push_back(loop);

        // Loop 0, the acceptor's: its own handler, mailbox and timers, served between accepts.
        std::unique_ptr<http::Handler> home_handler;
        try {
            home_handler = handlers();
        } catch (const std::exception& e) {
            core::log(core::LogLevel::error, "cannot build the acceptor's handler: {}", e.what());
            delete state;
            return 1;
        }
        http::LoopContext home(*home_handler, config.limits, config.timeouts);
        home.set_loop_index(0);
        // Loop 0's own descriptors (the push backplane's Redis connections), polled with the
        // listeners.
        http::PollWatcher home_watched;
        home.set_descriptors(&home_watched);
        home_handler->on_loop_start(home);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        std::size_t stack =
            std::max<std::size_t>(std::size_t{config.thread_stack_kb} * 1024, PTHREAD_STACK_MIN);
        if (pthread_attr_setstacksize(&attributes, stack) != 0) {
            core::log(core::LogLevel::warn, "thread stack of {} bytes refused; using default",
                      stack);
        }

        std::vector<pollfd> waits;
        for (int fd : listeners.shared()) waits.push_back(pollfd{fd, POLLIN, 0});
        std::size_t listener_count = waits.size();
        waits.push_back(pollfd{home.mailbox().fd(), POLLIN, 0});
        waits.push_back(pollfd{stop.fd(), POLLIN, 0});
        const std::size_t fixed = waits.size();  // then loop 0's own descriptors
        SpareDescriptor spare;
        core::RateLimitedLog log_limit;
        Heartbeat heartbeat = config.heartbeat;
        while (!stop.requested()) {
            home.tick();
            heartbeat.tick(home.now_ms());
            // -1 (forever) while loop 0 has no timer and nothing beats.
            std::int64_t wait = home.handler_timers().next_timeout_ms(home.now_ms());
            std::int64_t beat = heartbeat.until_next(home.now_ms());
            if (beat >= 0 && (wait < 0 || beat < wait)) wait = beat;
            int timeout = static_cast<int>(std::min<std::int64_t>(wait, 60'000));
            waits.resize(fixed);
            home_watched.append_to(waits);
            if (::poll(waits.data(), waits.size(), timeout) < 0 && errno != EINTR) break;
            // The eventfd rather than stop.requested() alone: under --processes this engine
            // runs in a child, where the flag (the parent's memory) never changes.
            if (waits[fixed - 1].revents & POLLIN) break;
            home.tick();
            if (waits[listener_count].revents & POLLIN) home.mailbox().run_pending();
            home_watched.dispatch(waits, fixed);
            home.run_timers();
            home.drain_ready([](http::Session&) {});  // loop 0 holds no session
            for (std::size_t i = 0; i < listener_count; ++i) {
                if (!(waits[i].revents & POLLIN)) continue;
                for (;;) {
                    int fd = accept_nonblocking(waits[i].fd);
                    if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE) {
                            spare.shed_one(waits[i].fd);
                            if (log_limit.allow(core::monotonic_ms())) {
                                core::log(core::LogLevel::warn, "accept: {}", std::strerror(errno));
                            }
                        }
                        break;
                    }
                    core::unique_fd owned(fd);
                    if (fd >= descriptor_ceiling()) {
                        // Keep the last descriptors for the files the threads already serving
                        // must open, as the event loops do.
                        reject_busy(std::move(owned));
                        continue;
                    }
                    std::unique_lock lock(shared.mutex);
                    if (shared.live >= cap) {
                        lock.unlock();
                        reject_busy(std::move(owned));
                        continue;
                    }
                    ++shared.live;
                    std::size_t loop = shared.free_loops.back();
                    shared.free_loops.pop_back();
                    lock.unlock();
                    auto* start = new ThreadStart{&shared, fd, loop, static_cast<std::uint8_t>(i)};
                    pthread_t thread;
                    if (pthread_create(&thread, &attributes, connection_thread, start) != 0) {
                        // Out of threads (memory, RLIMIT_NPROC): the same answer as the cap.
                        delete start;
                        {
                            std::lock_guard relock(shared.mutex);
                            shared.free_loops.push_back(loop);
                            --shared.live;
                        }
                        reject_busy(std::move(owned));
                        if (log_limit.allow(core::monotonic_ms())) {
                            core::log(core::LogLevel::warn, "cannot start a thread: {}",
                                      std::strerror(errno));
                        }
                        continue;
                    }
                    owned.release();  // the thread owns it now
                }
            }
        }
        heartbeat.stop_seen();
        pthread_attr_destroy(&attributes);
        // Threads see the stop themselves, finish their response and exit. A thread stuck past
        // the grace period is beyond a graceful stop; the process exit ends it.
        std::unique_lock lock(shared.mutex);
        bool done = shared.all_done.wait_for(
            lock, std::chrono::milliseconds(config.shutdown_grace_ms + 1000),
            [&] { return shared.live == 0; });
        lock.unlock();
        // After the last connection, as an event loop stops after its last connection closed.
        home_handler->on_loop_stop(home);
        lock.lock();
        if (!done) {
            core::log(core::LogLevel::warn, "{} connection threads still running at exit",
                      shared.live);
            access_log.release();  // still in use by them; the process exit closes it
            return 1;
        }
        lock.unlock();
        delete state;
        return 0;
    }
};

}  // namespace

std::unique_ptr<Engine> make_thread_engine() {
    return std::make_unique<ThreadEngine>();
}

std::size_t thread_engine_loops(const ServerConfig& config) {
    return static_cast<std::size_t>(thread_cap(config)) + 1;  // the acceptor's loop 0, then 1..cap
}

}  // namespace c10k::engine
