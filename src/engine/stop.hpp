#pragma once
// A stop request that every engine can wait on: a descriptor that becomes readable, once, for
// good. Poll-based loops add it to their poller; blocking engines poll() it beside accept().
// Engines learn about a stop only from here, whichever of the two kinds below they were given.
//
// The stop of a server process is its signals. SIGINT and SIGTERM are blocked in every thread
// and read through a signalfd, never by a thread of ours, so that an engine may fork at any time:
// no thread exists before the fork (a forked child is a whole copy of its parent, with no thread
// missing and no lock held by a thread that is not there), and the threads an engine starts
// later inherit the blocked mask. The same signalfd serves the single-process engines: their
// loops already watch the stop descriptor, so a watcher thread would only add a thread. A
// signalfd reads the signals of the process that reads it, so a child's copy of the parent's
// source is that child's own stop: SIGTERM sent to one child stops that child alone, and a
// process that forks passes its stop on to its children (pass_on) with SIGTERM.

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include "core/unique_fd.hpp"

namespace c10k::engine {

class StopSource {
public:
    /// Chooses the constructor for a server process's own stop (SIGINT and SIGTERM).
    struct ProcessSignals {};
    static constexpr ProcessSignals process_signals{};

    /// A stop that only request() triggers: an eventfd. A process forked later shares it, so a
    /// request in any of them stops them all. For tests and for engines run inside a process
    /// that handles its signals its own way.
    StopSource() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (!fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
    }

    /// The stop of this server process: SIGINT or SIGTERM sent to it, or request(). Blocks
    /// both signals in the calling thread, so it must be made before any thread starts (a
    /// thread started earlier could take the signal and die of it). Signals stay blocked after
    /// its destruction: a pending one would otherwise kill the process.
    explicit StopSource(ProcessSignals) : on_signals_(true) {
        sigset_t signals = stop_signals();
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        fd_.reset(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!fd_) throw std::system_error(errno, std::generic_category(), "signalfd");
    }

    StopSource(const StopSource&) = delete;
    StopSource& operator=(const StopSource&) = delete;

    /// Safe from any thread (not from a signal handler). With process signals it sends SIGTERM
    /// to this process, which stops this process only, wherever the source was copied by fork.
    void request() {
        if (requested_.exchange(true)) return;
        if (on_signals_) {
            ::kill(::getpid(), SIGTERM);
            return;
        }
        std::uint64_t one = 1;
        ssize_t ignored = ::write(fd_.get(), &one, sizeof one);
        (void)ignored;
    }

    /// True once request() was called in this process. A signal, or a request made in another
    /// process, shows only on fd(): loops that must see every stop watch the descriptor.
    bool requested() const { return requested_.load(std::memory_order_relaxed); }

    /// Readable once stop was requested. Never read it: it stays readable for all waiters (the
    /// eventfd keeps its count; a blocked signal stays pending until someone takes it).
    int fd() const { return fd_.get(); }

    /// Passes this process's stop on to a child it forked. With process signals the child's
    /// copy of the source reads only the child's own signals, so it is sent SIGTERM (blocked
    /// there since the fork, so it cannot be lost, even before the child reaches its loop).
    /// With an eventfd the child shares the descriptor and already saw the stop: nothing to do.
    void pass_on(pid_t child) const {
        if (on_signals_ && child > 0) ::kill(child, SIGTERM);
    }

    /// SIGINT and SIGTERM: the signals a server process stops on.
    static sigset_t stop_signals() {
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        return signals;
    }

private:
    core::unique_fd fd_;
    bool on_signals_ = false;
    std::atomic<bool> requested_{false};
};

}  // namespace c10k::engine
