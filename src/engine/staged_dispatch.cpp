#include "engine/staged_dispatch.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "http/session.hpp"  // Pending's members are inline there

namespace c10k::engine {

namespace {
// How much of an uncached file the file stage reads ahead before the loop sends it: enough for
// the loop's first sendfile calls to find the page cache warm, bounded so that one large file
// does not hold a file-stage thread for long (the rest streams as the client reads, as on
// every engine).
constexpr std::uint64_t kReadAheadBytes = 1 << 20;
constexpr std::size_t kProbeBytes = 4096;

/// Whether the first page of the range is in the page cache: a read that may not wait
/// (RWF_NOWAIT) says EAGAIN when it would have to go to the disk.
bool resident(int fd, std::uint64_t offset) {
    char probe[kProbeBytes];
    iovec vector{probe, sizeof probe};
    ssize_t n = ::preadv2(fd, &vector, 1, static_cast<off_t>(offset), RWF_NOWAIT);
    return !(n < 0 && errno == EAGAIN);
}

/// The response's shared objects are counted without atomics by the handler thread's cache
/// (core/ref_ptr.hpp). Before the response crosses to the loop's thread, every object the
/// handler still holds is replaced by one of the response's own: a copy of the bytes, a
/// duplicate of the descriptor. What only the response holds moves as it is.
void make_transferable(http::Response& response) {
    using Kind = http::Response::BodyKind;
    if (response.body_kind() == Kind::blob && response.blob()->use_count() > 1) {
        std::string bytes =
            response.blob()->data.substr(response.body_offset(), response.body_length());
        std::uint64_t length = bytes.size();
        response.set_body(core::make_ref<http::Blob>(std::move(bytes)), 0, length);
    } else if (response.body_kind() == Kind::file && response.file()->use_count() > 1) {
        core::unique_fd copy(::fcntl(response.file()->fd.get(), F_DUPFD_CLOEXEC, 0));
        if (!copy) {
            response.clear();
            response.set_status(503);
            response.add_header("Retry-After", "1");
            response.set_body("Out of file descriptors; try again shortly.\n");
            return;
        }
        std::uint64_t size = response.file()->size;
        std::uint64_t offset = response.body_offset();
        std::uint64_t length = response.body_length();
        response.set_file_body(core::make_ref<http::OpenFile>(std::move(copy), size), offset,
                               length);
    }
}
}  // namespace

void LoopLink::open(core::Mailbox& mailbox, StageDispatcher& dispatcher) {
    std::lock_guard<std::mutex> lock(mutex_);
    mailbox_ = &mailbox;
    dispatcher_ = &dispatcher;
}

void LoopLink::close() {
    std::lock_guard<std::mutex> lock(mutex_);
    mailbox_ = nullptr;
    dispatcher_ = nullptr;
}

bool LoopLink::post(std::unique_ptr<HandlerJob> job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (mailbox_ == nullptr) return false;
    // The mailbox takes copyable tasks; the job is shared only to ride in one. It is moved in,
    // so that the task holds the only reference: the job (and the response's non-atomic
    // reference counts) must end on the loop's thread, never here after the loop ran the task.
    std::shared_ptr<HandlerJob> carried(std::move(job));
    StageDispatcher* dispatcher = dispatcher_;
    mailbox_->post(
        [dispatcher, carried = std::move(carried)] { dispatcher->complete(*carried); });
    return true;
}

HandlerJob::HandlerJob(const http::Request& request, Ticket* ticket, LoopLink& link,
                       const StageServices& services)
    : method_text_(request.method_text),
      target_(request.target),
      body_(request.body),
      peer_(request.peer),
      request_(request),
      ticket_(ticket),
      link_(&link),
      services_(&services) {
    header_text_.reserve(request.headers.size() * 2);
    for (const auto& header : request.headers) {
        header_text_.emplace_back(header.name);
        header_text_.emplace_back(header.value);
    }
    // Views are taken once every string is in its final place (the vector no longer grows).
    headers_.reserve(request.headers.size());
    for (std::size_t i = 0; i + 1 < header_text_.size(); i += 2) {
        headers_.push_back({header_text_[i], header_text_[i + 1]});
    }
    request_.method_text = method_text_;
    request_.target = target_;
    request_.body = body_;
    request_.peer = peer_;
    request_.headers = headers_;
}

void HandlerJob::run(http::Handler* handler, std::unique_ptr<StageWork>& self) {
    if (!handled_) {
        handle(handler, self);
    } else {
        read_ahead();
        send_back(self);
    }
}

bool HandlerJob::expire(std::unique_ptr<StageWork>& self) {
    if (handled_) return false;
    handled_ = true;
    expired_ = true;
    http::answer_overloaded(response_, false);
    send_back(self);
    return true;
}

void HandlerJob::handle(http::Handler* handler, std::unique_ptr<StageWork>& self) {
    handled_ = true;
    if (services_->handler_delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(services_->handler_delay_ms));
    }
    handler->handle(request_, response_);
    make_transferable(response_);
    const auto& file = response_.file();
    if (response_.body_kind() == http::Response::BodyKind::file && response_.body_length() > 0 &&
        !resident(file->fd.get(), response_.body_offset())) {
        // Reading from the disk blocks: that is the file stage's work, not the loop's (whose
        // sendfile would stall every connection it serves) nor this stage's.
        if (services_->file_stage->push(self)) return;
    }
    send_back(self);
}

void HandlerJob::read_ahead() {
    static thread_local std::vector<char> buffer(64 * 1024);
    int fd = response_.file()->fd.get();
    std::uint64_t offset = response_.body_offset();
    std::uint64_t end = offset + std::min(response_.body_length(), kReadAheadBytes);
    while (offset < end) {
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - offset));
        ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the loop's sendfile meets the same error and closes
        offset += static_cast<std::uint64_t>(n);
    }
}

void HandlerJob::send_back(std::unique_ptr<StageWork>& self) {
    std::unique_ptr<HandlerJob> job(static_cast<HandlerJob*>(self.release()));
    LoopLink* link = job->link_;
    (void)link->post(std::move(job));  // closed: the loop is gone, and so is the client
}

StageDispatcher::StageDispatcher(std::unique_ptr<http::Handler> inner,
                                 const StageServices& services)
    : inner_(std::move(inner)), services_(services) {}

StageDispatcher::~StageDispatcher() {
    // Jobs still out never come back (the loop stopped); their tickets end here.
    for (Ticket* ticket : tickets_) delete ticket;
}

void StageDispatcher::on_loop_start(http::LoopContext& context) {
    context_ = &context;
    inner_->on_loop_start(context);
    link_ = (*services_.links)[context.loop_index()].get();
    link_->open(context.mailbox(), *this);
}

void StageDispatcher::on_loop_stop(http::LoopContext& context) {
    link_->close();
    context_ = nullptr;
    inner_->on_loop_stop(context);
}

void StageDispatcher::handle(const http::Request& request, http::Response& response) {
    if (link_ == nullptr || request.body_streamed || !inner_->answers_off_loop(request)) {
        inner_->handle(request, response);
        return;
    }
    Stage& stage = *services_.handler_stage;
    if (stage.overload().severe()) {
        // The handler stage's queue stands far above its target (Stage::enable_overload), even
        // though stale work there is expired: its threads are stuck. A canned answer here, on
        // the loop, as Session does for a loop that lags. Short of that the request is queued:
        // the stage serves the newest first and expires what waited past the target.
        stage.shed_report().count_request(stage.queue_delay_us());
        if (context_ != nullptr) context_->count(&http::LoopMetrics::overload_shed_requests);
        http::answer_overloaded(response, true);
        return;
    }
    auto* ticket = new Ticket;
    ticket->pending = response.defer(*ticket);
    std::unique_ptr<StageWork> job =
        std::make_unique<HandlerJob>(request, ticket, *link_, services_);
    if (!services_.handler_stage->push(job)) {
        // The stages stopped (the server is going down): answer here, as any engine would.
        http::Response busy;
        busy.set_status(503);
        busy.close_connection();
        ticket->pending.respond(busy);
        delete ticket;
        return;
    }
    tickets_.insert(ticket);
}

void StageDispatcher::complete(HandlerJob& job) {
    Ticket* ticket = job.ticket();
    tickets_.erase(ticket);
    if (job.expired() && context_ != nullptr) {
        context_->count(&http::LoopMetrics::overload_shed_requests);
    }
    if (ticket->pending) ticket->pending.respond(job.response());
    delete ticket;
}

}  // namespace c10k::engine
