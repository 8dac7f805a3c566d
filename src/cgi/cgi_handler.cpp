#include "cgi/cgi_handler.hpp"

#include <fcntl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "cgi/answers.hpp"
#include "cgi/child.hpp"
#include "cgi/environment.hpp"
#include "cgi/run.hpp"
#include "cgi/script.hpp"
#include "core/log.hpp"
#include "http/response.hpp"
#include "http/session.hpp"
#include "serve/path.hpp"

namespace c10k::cgi {

/// A program whose run ended before it exited: killed, and reaped when its pidfd says so.
class Handler::Reaper final : public http::DescriptorTask {
public:
    Reaper(Handler& handler, pid_t pid, core::unique_fd pidfd)
        : handler_(handler), pid_(pid), pidfd_(std::move(pidfd)) {}
    pid_t pid() const { return pid_; }
    int fd() const { return pidfd_.get(); }
    void on_ready(std::uint32_t) override {
        if (reap(pid_) >= 0) handler_.reaped(*this);
    }

private:
    Handler& handler_;
    pid_t pid_;
    core::unique_fd pidfd_;
};

namespace {

void answer(http::Response& response, int status, std::string_view why) {
    answer_error(response, "cgi", status, why);
}

}  // namespace

Handler::Handler(Options options, std::unique_ptr<http::Handler> fallback)
    : options_(std::move(options)), fallback_(std::move(fallback)), read_buffer_(64 * 1024) {
    for (const Location& location : options_.locations) {
        core::unique_fd directory(
            ::open(location.directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!directory) {
            throw std::runtime_error(fmt::format("--cgi {}={}: {}", location.prefix,
                                                 location.directory, std::strerror(errno)));
        }
        directories_.push_back(std::move(directory));
    }
}

Handler::~Handler() = default;

bool Handler::answers_off_loop(const http::Request& request) const {
    std::optional<std::string> path = serve::normalize_path(request.path());
    if (!path || !fallback_) return false;
    for (const auto& location : options_.locations) {
        if (path->starts_with(location.prefix)) return false;
    }
    return fallback_->answers_off_loop(request);
}

std::uint64_t Handler::body_limit(std::uint8_t listener) const {
    return fallback_ ? fallback_->body_limit(listener) : 0;
}

void Handler::on_loop_start(http::LoopContext& context) {
    context_ = &context;
    if (fallback_) fallback_->on_loop_start(context);
}

void Handler::on_loop_stop(http::LoopContext& context) {
    // Every connection is gone, and with it every run; the programs they left are dead or
    // dying (SIGKILL): wait for them so that none is left a zombie.
    for (auto& reaper : reapers_) {
        if (context.descriptors() != nullptr) context.descriptors()->unwatch(reaper->fd());
        ::waitpid(reaper->pid(), nullptr, 0);
    }
    reapers_.clear();
    waiting_.clear();  // their connections are gone, and with them the runs
    if (fallback_) fallback_->on_loop_stop(context);
    context_ = nullptr;
}

void Handler::handle(const http::Request& request, http::Response& response) {
    std::optional<std::string> path = serve::normalize_path(request.path());
    std::optional<std::size_t> index;
    if (path) index = match_location(*path, options_.locations);
    if (!index) {
        pass_on(fallback_.get(), request, response, "cgi");
        return;
    }
    const Location& location = options_.locations[*index];
    if (context_ == nullptr || context_->descriptors() == nullptr) {
        answer(response, 500, "this engine cannot watch a program's pipes");
        return;
    }
    Script script;
    if (int status = resolve_script(directories_[*index].get(), location.prefix, *path, script);
        status != 0) {
        answer(response, status, status == 403 ? "the program is not executable" : "no such program");
        return;
    }
    std::string filename = location.directory + "/" + script.relative;
    EnvironmentInfo info;
    info.script_name = script.script_name;
    info.path_info = script.path_info;
    info.script_filename = filename;
    info.document_root = location.directory;
    info.server_port = port_of(request.header("Host"));
    info.software = options_.software;
    if (!slot_free() && queue_full()) {
        answer(response, 503, "too many programs are running; try again");
        return;
    }
    std::vector<std::string> environment = cgi_environment(request, info);  // info views script
    Launch launch{std::move(script), std::move(environment)};
    Origin origin;
    origin.headers.reserve(request.headers.size() * 2);
    for (const http::Header& header : request.headers) {
        origin.headers.emplace_back(header.name);
        origin.headers.emplace_back(header.value);
    }
    origin.peer = request.peer;
    origin.redirects = request.redirects;
    auto* run = new Run(*this, std::move(launch), std::move(origin), request.method,
                        request.body_streamed);
    run->begin(response.defer(*run));
}

bool Handler::queue_full() const {
    return options_.queue_timeout_ms == 0 || waiting_.size() >= options_.max_processes;
}

bool Handler::enqueue(Run& run) {
    if (queue_full()) return false;
    waiting_.push_back(&run);
    return true;
}

void Handler::dequeue(Run& run) {
    auto it = std::find(waiting_.begin(), waiting_.end(), &run);
    if (it != waiting_.end()) waiting_.erase(it);
}

void Handler::start_waiting() {
    if (starting_) return;  // a start that failed ends its run, which lands here again
    starting_ = true;
    while (slot_free() && !waiting_.empty()) {
        Run* run = waiting_.front();
        waiting_.pop_front();
        run->start();  // may end (and delete) the run; the slot then stays free
    }
    starting_ = false;
}

void Handler::run_ended(pid_t pid, core::unique_fd pidfd) {
    if (pid <= 0) {
        --running_;
        start_waiting();
        return;
    }
    kill_group(pid);
    if (reap(pid) >= 0 || !pidfd || context_ == nullptr || context_->descriptors() == nullptr) {
        if (pidfd && reap(pid) < 0) ::waitpid(pid, nullptr, 0);  // SIGKILLed: at once
        --running_;
        start_waiting();
        return;
    }
    auto reaper = std::make_unique<Reaper>(*this, pid, std::move(pidfd));
    if (!context_->descriptors()->watch(reaper->fd(), http::DescriptorTask::readable, *reaper)) {
        ::waitpid(pid, nullptr, 0);
        --running_;
        start_waiting();
        return;
    }
    reapers_.push_back(std::move(reaper));
}

void Handler::reaped(Reaper& reaper) {
    context_->descriptors()->unwatch(reaper.fd());
    --running_;
    auto it = std::find_if(reapers_.begin(), reapers_.end(),
                           [&](const auto& entry) { return entry.get() == &reaper; });
    if (it != reapers_.end()) reapers_.erase(it);  // deletes it: its on_ready returns at once
    start_waiting();
}

}  // namespace c10k::cgi
