#include "cgi/run.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/core.h>

#include "cgi/answers.hpp"
#include "cgi/cgi_handler.hpp"
#include "core/log.hpp"
#include "http/response.hpp"
#include "http/session.hpp"

namespace c10k::cgi {

namespace {

std::string describe_exit(int status) {
    if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
    return fmt::format("exited with status {}", WEXITSTATUS(status));
}

}  // namespace

Run::Run(Handler& handler, Launch launch, Origin origin, http::Method method, bool body_follows)
    : handler_(handler),
      launch_(std::move(launch)),
      origin_(std::move(origin)),
      name_(launch_.script.script_name),
      method_(method),
      head_(handler.options().max_head_bytes),
      body_follows_(body_follows) {
    for (int i = 0; i < 4; ++i) {
        watches_[i].run = this;
        watches_[i].which = static_cast<Which>(i);
    }
}

Run::~Run() {
    if (scheduled()) handler_.context().timers().cancel(*this);
}

void Run::begin(http::Pending pending) {
    pending_ = pending;
    if (handler_.slot_free()) {
        start();
        return;
    }
    // Every slot is taken: wait briefly for one (a burst outlives its programs by little),
    // then 503. The client's body is not read meanwhile (no 100 Continue either).
    if (!handler_.enqueue(*this)) {
        fail(503, "too many programs are running; try again");
        return;
    }
    waiting_ = true;
    handler_.context().timers().schedule(
        *this, handler_.context().now_ms() + handler_.options().queue_timeout_ms);
}

void Run::start() {
    waiting_ = false;
    if (scheduled()) handler_.context().timers().cancel(*this);
    auto child = spawn(launch_.script, launch_.environment);
    launch_ = Launch();
    if (!child) {
        int error = child.error();
        bool transient = error == EAGAIN || error == EMFILE || error == ENFILE || error == ENOMEM;
        fail(transient ? 503 : 500,
             fmt::format("the program could not be started: {}", std::strerror(error)));
        return;
    }
    child_ = std::move(*child);
    started_ = true;
    handler_.run_started();
    handler_.context().timers().schedule(
        *this, handler_.context().now_ms() + handler_.options().timeout_ms);
    if (!watch(kStdout, http::DescriptorTask::readable) ||
        !watch(kStderr, http::DescriptorTask::readable) ||
        !watch(kExit, http::DescriptorTask::readable)) {
        fail(500, "the loop cannot watch the program's pipes");
        return;
    }
    if (body_follows_) {
        pending_.read_body(*this);  // nothing arrives from inside: the head was just parsed
    } else {
        body_done_ = true;
        close_pipe(kStdin);  // no body: the program reads EOF at once
    }
}

int Run::fd_of(Which which) const {
    switch (which) {
        case kStdin:
            return child_.to_stdin.get();
        case kStdout:
            return child_.from_stdout.get();
        case kStderr:
            return child_.from_stderr.get();
        case kExit:
            return child_.pidfd.get();
    }
    return -1;
}

bool Run::watch(Which which, std::uint32_t events) {
    int fd = fd_of(which);
    if (fd < 0 || watched_[which] == events) return true;
    http::DescriptorWatcher* watcher = handler_.context().descriptors();
    if (watcher == nullptr) return false;
    if (events == 0) {
        watcher->unwatch(fd);
    } else if (!watcher->watch(fd, events, watches_[which])) {
        return false;
    }
    watched_[which] = events;
    return true;
}

void Run::close_pipe(Which which) {
    watch(which, 0);
    switch (which) {
        case kStdin:
            child_.to_stdin.reset();
            break;
        case kStdout:
            child_.from_stdout.reset();
            break;
        case kStderr:
            child_.from_stderr.reset();
            break;
        case kExit:
            child_.pidfd.reset();
            break;
    }
}

void Run::ready(Which which, std::uint32_t) {
    switch (which) {
        case kStdin:
            write_stdin();
            return;
        case kStdout:
            read_stdout();
            return;
        case kStderr:
            read_stderr(false);
            return;
        case kExit:
            exited();
            return;
    }
}

// ---- the request body, to the program's standard input --------------------------------------

void Run::on_request_body(const char* data, std::size_t size) {
    if (!child_.to_stdin) return;  // the program stopped reading: the rest is dropped
    to_stdin_.append(data, size);
    std::size_t limit = handler_.options().buffer_bytes;
    if (!body_paused_ && to_stdin_.size() >= limit) {
        body_paused_ = true;
        pending_.pause_body();
    }
    if (!in_write_) write_stdin();
}

void Run::on_request_body_end() {
    body_done_ = true;
    if (!in_write_) write_stdin();
}

void Run::write_stdin() {
    if (!child_.to_stdin) return;
    in_write_ = true;
    for (;;) {
        while (!to_stdin_.empty()) {
            ssize_t n = ::write(child_.to_stdin.get(), to_stdin_.data(), to_stdin_.size());
            if (n > 0) {
                to_stdin_.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            // EPIPE: the program exited or closed its input without reading the whole body.
            // Not an error of the request: its output decides. The rest of the body is read
            // from the client and dropped.
            to_stdin_.clear();
            close_pipe(kStdin);
            break;
        }
        if (body_paused_ && to_stdin_.size() < handler_.options().buffer_bytes / 2) {
            body_paused_ = false;
            pending_.resume_body();  // may hand over what it held: queued, this loop writes it
            if (!to_stdin_.empty() && child_.to_stdin) continue;
        }
        break;
    }
    in_write_ = false;
    if (!child_.to_stdin) return;
    if (!to_stdin_.empty()) {
        watch(kStdin, http::DescriptorTask::writable);
    } else if (body_done_) {
        close_pipe(kStdin);  // EOF: the program knows the body ended
    } else {
        watch(kStdin, 0);
    }
}

// ---- the program's output, to the client ---------------------------------------------------

void Run::read_stdout() {
    std::vector<char>& buffer = handler_.read_buffer();
    // A few reads per wake-up, so one chatty program does not starve the loop's other work.
    for (int round = 0; round < 4 && child_.from_stdout && !output_paused_; ++round) {
        ssize_t n = ::read(child_.from_stdout.get(), buffer.data(), buffer.size());
        if (n > 0) {
            take_output(buffer.data(), static_cast<std::size_t>(n));
            return;  // take_output may have ended the run; the next wake-up reads on
        }
        if (n == 0) {
            output_ended();
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        output_ended();
        return;
    }
}

void Run::take_output(const char* data, std::size_t size) {
    if (!head_done_) {
        std::size_t used = 0;
        OutputHead::State state = head_.feed(data, size, used);
        if (state == OutputHead::State::invalid) {
            fail(502, head_.error());
            return;
        }
        if (state == OutputHead::State::more) return;
        head_done_ = true;
        if (head_.local_redirect()) {
            redirect();
            return;  // the rest of the output is read and dropped
        }
        start_response();
        data += used;
        size -= used;
    }
    if (size > 0) write_body(data, size);
}

void Run::start_response() {
    client_open_ = cgi::start_answer(head_, method_, pending_, remaining_);
}

void Run::redirect() {
    // As Apache's LimitInternalRecursion: a program that redirects to itself must not spin.
    constexpr std::uint8_t kMaxRedirects = 10;
    if (origin_.redirects >= kMaxRedirects) {
        head_done_ = false;  // nothing was sent: the client gets the error
        fail(500, fmt::format("more than {} local redirects (the last to {})", kMaxRedirects,
                              head_.local_location()));
        return;
    }
    std::vector<http::Header> headers;
    for (std::size_t i = 0; i + 1 < origin_.headers.size(); i += 2) {
        headers.push_back(http::Header{origin_.headers[i], origin_.headers[i + 1]});
    }
    http::Request request;
    request.method = http::Method::get;
    request.method_text = "GET";
    request.target = head_.local_location();
    request.headers = headers;
    request.peer = origin_.peer;
    request.redirects = static_cast<std::uint8_t>(origin_.redirects + 1);
    // From here the answer is the redirected request's; this run only lets its program end.
    client_open_ = false;
    std::exchange(pending_, http::Pending()).redispatch(request);
}

void Run::write_body(const char* data, std::size_t size) {
    if (!client_open_) return;  // read and dropped, so that the program can finish
    if (remaining_ >= 0) {
        if (static_cast<long long>(size) > remaining_) {
            core::log(core::LogLevel::warn, "cgi: {} wrote more than its Content-Length", name_);
            size = static_cast<std::size_t>(remaining_);
        }
        remaining_ -= static_cast<long long>(size);
    }
    if (size > 0) pending_.write(std::string_view(data, size));
    std::uint64_t limit = handler_.options().buffer_bytes;
    if (pending_.queued_bytes() > limit && pending_.notify_drained(limit / 4)) {
        // The client reads slower than the program writes: the pipe fills and the program
        // blocks, so the server holds at most about `limit` for it.
        output_paused_ = true;
        watch(kStdout, 0);
    }
}

void Run::on_pending_drained() {
    output_paused_ = false;
    if (child_.from_stdout) watch(kStdout, http::DescriptorTask::readable);
}

void Run::output_ended() {
    close_pipe(kStdout);
    output_done_ = true;
    read_stderr(true);
    if (!head_done_) {
        // No answer: the exit status says why (a crash, an exit code), and it comes a moment
        // after the output closed; the timeout bounds a program that closed it and goes on.
        if (!exited_) return;
        fail(502, fmt::format("the program {} before writing a head", describe_exit(exit_status_)));
        return;
    }
    if (client_open_) {
        if (remaining_ > 0) {
            core::log(core::LogLevel::warn, "cgi: {} wrote less than its Content-Length", name_);
            pending_.close();  // a short body must not pass for a whole one
        } else {
            pending_.finish();
        }
        client_open_ = false;
    }
    end();
}

void Run::read_stderr(bool until_empty) {
    if (!child_.from_stderr) return;
    char buffer[4096];
    // Bounded: a program that writes to stderr without end cannot hold the loop.
    for (int round = 0; round < (until_empty ? 64 : 4); ++round) {
        ssize_t n = ::read(child_.from_stderr.get(), buffer, sizeof buffer);
        if (n > 0) {
            log_error_lines(stderr_line_, std::string_view(buffer, static_cast<std::size_t>(n)),
                            "cgi: " + name_);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        // EOF (or an error): what is left of the last line, then the pipe goes.
        log_error_lines(stderr_line_, {}, "cgi: " + name_, true);
        close_pipe(kStderr);
        return;
    }
}

void Run::exited() {
    exit_status_ = reap(child_.pid);
    if (exit_status_ < 0) return;  // not yet (a spurious wake-up)
    exited_ = true;
    close_pipe(kExit);
    child_.pid = -1;
    if (exit_status_ != 0) {
        core::log(core::LogLevel::warn, "cgi: {} {}", name_, describe_exit(exit_status_));
    }
    // The response ends when the output does: its last bytes may still be in the pipe.
    if (output_done_ && !head_done_) output_ended();
}

void Run::on_timer() {
    if (waiting_) {
        fail(503, fmt::format("no process slot freed within --cgi-queue-timeout ({} ms)",
                              handler_.options().queue_timeout_ms));
        return;
    }
    kill_group(child_.pid);
    fail(504, fmt::format("the program ran longer than --cgi-timeout ({} ms)",
                          handler_.options().timeout_ms));
}

void Run::fail(int status, std::string_view why) {
    core::log(core::LogLevel::warn, "cgi: {}: {}", name_, why);
    if (head_done_) {
        // Part of the answer is out: a cut connection is the only honest end.
        if (client_open_) pending_.close();
    } else if (client_open_) {
        http::Response response;
        answer_error(response, "cgi", status, why);
        pending_.respond(response);
    }
    client_open_ = false;
    end();
}

void Run::on_pending_closed() {
    // The client left (or the server stops): nobody will read the answer, and the program is
    // killed rather than left to run for nobody.
    client_open_ = false;
    pending_ = http::Pending();
    end();
}

void Run::end() {
    for (Which which : {kStdin, kStdout, kStderr, kExit}) watch(which, 0);
    pid_t pid = child_.pid;
    core::unique_fd pidfd = std::move(child_.pidfd);
    if (client_open_) pending_.close();
    if (waiting_) handler_.dequeue(*this);
    bool started = started_;
    Handler& handler = handler_;
    delete this;
    // After the delete: freeing the slot may start a waiting run at once.
    if (started) handler.run_ended(pid, std::move(pidfd));
}

}  // namespace c10k::cgi
