#pragma once
// One CGI request: the program's process, the request body on its way to the program's
// standard input, and its standard output on its way to the client. Four descriptors are
// watched on the loop: stdin (writable while body bytes wait), stdout and stderr (readable),
// and the pidfd (readable once the program exited).

#include <cstdint>
#include <string>
#include <vector>

#include "cgi/child.hpp"
#include "cgi/output_head.hpp"
#include "cgi/script.hpp"
#include "http/context.hpp"
#include "http/pending.hpp"
#include "http/request.hpp"

namespace c10k::cgi {

class Handler;

/// What starting the program takes, kept while the run waits for a process slot.
struct Launch {
    Script script;
    std::vector<std::string> environment;
};

/// What a local redirect needs of the request, which is gone once handle() returned.
struct Origin {
    std::vector<std::string> headers;  ///< name, value, name, value...
    std::string peer;
    std::uint8_t redirects = 0;
};

class Run final : public http::PendingOwner, public http::BodySink, public http::TimerTask {
public:
    /// `body_follows`: the request's body is streamed to the program.
    Run(Handler& handler, Launch launch, Origin origin, http::Method method, bool body_follows);
    ~Run();
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    /// Starts the program, or queues the run for a process slot (503 when the queue is full).
    /// May end (and delete) the run before it returns.
    void begin(http::Pending pending);
    /// A slot is free: starts the program and watches it. May end (and delete) the run.
    void start();

    // http::PendingOwner
    void on_pending_closed() override;
    void on_pending_drained() override;
    // http::BodySink
    void on_request_body(const char* data, std::size_t size) override;
    void on_request_body_end() override;
    // http::TimerTask: the run waited past --cgi-queue-timeout, or ran past --cgi-timeout.
    void on_timer() override;

private:
    enum Which { kStdin = 0, kStdout = 1, kStderr = 2, kExit = 3 };
    struct Watch final : http::DescriptorTask {
        Run* run = nullptr;
        Which which = kStdin;
        void on_ready(std::uint32_t events) override { run->ready(which, events); }
    };

    void ready(Which which, std::uint32_t events);
    int fd_of(Which which) const;
    bool watch(Which which, std::uint32_t events);
    void close_pipe(Which which);
    void write_stdin();
    void read_stdout();
    void take_output(const char* data, std::size_t size);
    void start_response();
    /// The program's head was a local redirect: the path it named is served instead.
    void redirect();
    void write_body(const char* data, std::size_t size);
    void output_ended();
    void read_stderr(bool until_empty);
    void exited();
    /// The run cannot go on: an error answer while none began, a cut connection after.
    void fail(int status, std::string_view why);
    /// Deletes the run; its program, if alive, is killed and reaped by the handler.
    void end();

    Handler& handler_;
    http::Pending pending_;
    Launch launch_;  ///< emptied once the program started
    Origin origin_;
    Child child_;
    std::string name_;  ///< the script, for the log
    http::Method method_;
    OutputHead head_;
    Watch watches_[4];
    std::uint32_t watched_[4] = {};
    std::string to_stdin_;        ///< body bytes the program has not read yet
    std::string stderr_line_;     ///< a line of the program's standard error so far
    long long remaining_ = -1;    ///< bytes left of an announced Content-Length
    int exit_status_ = 0;
    bool head_done_ = false;
    bool client_open_ = true;     ///< the Pending may still be written
    bool body_done_ = false;      ///< the request body ended (or there was none)
    bool body_paused_ = false;    ///< the client is not read: the program is behind
    bool in_write_ = false;       ///< inside write_stdin: body handed over is only queued
    bool output_paused_ = false;  ///< stdout is not read: the client is behind
    bool exited_ = false;
    bool body_follows_ = false;
    bool waiting_ = false;  ///< queued for a process slot
    bool started_ = false;  ///< the program was started (it holds a slot until reaped)
    bool output_done_ = false;  ///< stdout reached its end
};

}  // namespace c10k::cgi
