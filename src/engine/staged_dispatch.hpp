#pragma once
// The loop side of the staged engine: the Handler each event loop calls. A request its handler
// chain may answer off the loop (Handler::answers_off_loop) is deferred on the loop, copied,
// and queued to the handler stage; its answer comes back through the loop's mailbox. Anything
// else is handled on the loop, as the epoll engine does.

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "core/mailbox.hpp"
#include "engine/stage.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"
#include "http/pending.hpp"
#include "http/response.hpp"

namespace c10k::engine {

class StageDispatcher;
class HandlerJob;

/// Where stage threads send a finished job back to: one loop's mailbox, while that loop runs.
/// Owned by the engine and outliving the stages' threads, so that a thread finishing after its
/// loop stopped finds a closed link instead of a destroyed mailbox.
class LoopLink {
public:
    void open(core::Mailbox& mailbox, StageDispatcher& dispatcher);
    void close();
    /// From a stage thread: hands the job to the loop. False (the job is dropped) once closed.
    bool post(std::unique_ptr<HandlerJob> job);

private:
    std::mutex mutex_;
    core::Mailbox* mailbox_ = nullptr;       // guarded by mutex_
    StageDispatcher* dispatcher_ = nullptr;  // guarded by mutex_
};

/// What every loop's dispatcher shares.
struct StageServices {
    Stage* handler_stage = nullptr;
    Stage* file_stage = nullptr;
    std::vector<std::unique_ptr<LoopLink>>* links = nullptr;  ///< one per loop
    /// Test hook (C10K_STAGED_HANDLER_DELAY_MS): each handler-stage job first sleeps this long,
    /// standing for a handler that blocks, so that tests can make the queue grow.
    std::int64_t handler_delay_ms = 0;
};

/// The loop's own record of a request that went to the stages: its Pending, forgotten if the
/// client leaves first. Only the loop's thread touches it.
struct Ticket final : http::PendingOwner {
    http::Pending pending;
    void on_pending_closed() override { pending = http::Pending(); }
};

/// A request on its way through the stages: an owned copy of the request, the response the
/// handler stage fills, and the ticket it answers (dereferenced on the loop only).
class HandlerJob final : public StageWork {
public:
    HandlerJob(const http::Request& request, Ticket* ticket, LoopLink& link,
               const StageServices& services);
    void run(http::Handler* handler, std::unique_ptr<StageWork>& self) override;
    /// Not yet handled: answered with the canned 503 of overload control and sent back.
    bool expire(std::unique_ptr<StageWork>& self) override;

    Ticket* ticket() const { return ticket_; }
    bool expired() const { return expired_; }
    http::Response& response() { return response_; }

private:
    void handle(http::Handler* handler, std::unique_ptr<StageWork>& self);
    void read_ahead();
    void send_back(std::unique_ptr<StageWork>& self);

    // The request's bytes, owned: the Session's storage is the loop's.
    std::string method_text_, target_, body_, peer_;
    std::vector<std::string> header_text_;  ///< name, value, name, value...
    std::vector<http::Header> headers_;
    http::Request request_;
    http::Response response_;
    Ticket* ticket_;
    bool expired_ = false;
    LoopLink* link_;
    const StageServices* services_;
    bool handled_ = false;  ///< the handler ran; what is left is the file stage's read-ahead
};

class StageDispatcher final : public http::Handler {
public:
    StageDispatcher(std::unique_ptr<http::Handler> inner, const StageServices& services);
    ~StageDispatcher() override;

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    std::uint64_t body_limit(std::uint8_t listener) const override {
        return inner_->body_limit(listener);
    }
    bool streams_body(std::uint8_t listener) const override {
        return inner_->streams_body(listener);
    }
    bool wants_peer() const override { return inner_->wants_peer(); }

    /// On the loop: a job came back; answers its request unless the client left.
    void complete(HandlerJob& job);

private:
    std::unique_ptr<http::Handler> inner_;  ///< the loop's own chain, for what stays here
    const StageServices& services_;
    LoopLink* link_ = nullptr;
    http::LoopContext* context_ = nullptr;  ///< while the loop runs: for its metrics
    std::unordered_set<Ticket*> tickets_;  ///< in the stages now; freed when back or at the end
};

}  // namespace c10k::engine
