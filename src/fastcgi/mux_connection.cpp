#include "fastcgi/mux_connection.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "fastcgi/pool.hpp"
#include "fastcgi/protocol.hpp"

namespace c10k::fastcgi {

MuxConnection::MuxConnection(Pool& pool, http::LoopContext& context, core::unique_fd fd,
                             bool connecting, std::size_t max_requests, std::vector<char>& buffer)
    : pool_(pool),
      context_(context),
      fd_(std::move(fd)),
      connecting_(connecting),
      slots_(max_requests),
      buffer_(buffer) {
    parser_.expect_any();
}

MuxConnection::~MuxConnection() {
    if (watched_ != 0 && context_.descriptors() != nullptr)
        context_.descriptors()->unwatch(fd_.get());
}

bool MuxConnection::start() {
    update_watch();
    return watched_ != 0;
}

std::uint16_t MuxConnection::attach(Request& request) {
    // The lowest free id: ids stay small, and the queue's lanes few.
    std::size_t index = 0;
    while (slots_[index].state != SlotState::free) ++index;
    slots_[index] = Slot{SlotState::active, &request, false};
    ++taken_;
    auto id = static_cast<std::uint16_t>(index + 1);
    queue_.begin(id);
    return id;
}

void MuxConnection::send(std::uint16_t id, std::string_view records) {
    queue_.push(id, records);
    if (!flushing_) flush();
}

void MuxConnection::want_writable(std::uint16_t id, bool want) {
    slots_[id - 1].wants_writable = want;
}

void MuxConnection::release(std::uint16_t id, bool ended) {
    Slot& slot = slots_[id - 1];
    if (ended) {
        queue_.drop(id);  // STDIN the application no longer reads
        free_slot(id);
        return;
    }
    slot.request = nullptr;
    slot.wants_writable = false;
    if (!queue_.drop(id)) {
        free_slot(id);  // never heard of: nothing to abort
        return;
    }
    // The application may be writing its response: it is told to stop, and its END_REQUEST
    // (the answer to the abort) frees the id; until then records for it are dropped.
    slot.state = SlotState::aborting;
    std::string abort;
    append_abort_request(abort, id);
    send(id, abort);
}

void MuxConnection::free_slot(std::uint16_t id) {
    slots_[id - 1] = Slot{};
    --taken_;
    pool_.slot_free();  // may attach a waiting request at once
}

void MuxConnection::flush() {
    if (connecting_ || !broken_.empty()) return;
    flushing_ = true;
    for (;;) {
        bool blocked = false;
        for (std::string_view bytes = queue_.next(); !bytes.empty(); bytes = queue_.next()) {
            ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n > 0) {
                queue_.sent(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                blocked = true;
                break;
            }
            // Reported by the next read, from the loop (not from inside a caller's send):
            // the shutdown makes the socket readable at once.
            broken_ = std::strerror(errno);
            ::shutdown(fd_.get(), SHUT_RDWR);
            blocked = true;
            break;
        }
        // Requests that asked to be told their queue went down may queue more now.
        bool more = false;
        for (std::size_t i = 0; i < slots_.size() && !blocked; ++i) {
            Slot& slot = slots_[i];
            auto id = static_cast<std::uint16_t>(i + 1);
            if (slot.state == SlotState::active && slot.wants_writable &&
                queue_.queued(id) < kWritableMark) {
                slot.wants_writable = false;
                slot.request->on_multiplexed_writable();  // may release the slot
                more = true;
            }
        }
        if (!more || queue_.empty() || blocked) break;
    }
    flushing_ = false;
    update_watch();
}

void MuxConnection::update_watch() {
    std::uint32_t events = http::DescriptorTask::readable;
    if (connecting_ || (!queue_.empty() && broken_.empty())) {
        events |= http::DescriptorTask::writable;
    }
    if (events == watched_ || context_.descriptors() == nullptr) return;
    if (context_.descriptors()->watch(fd_.get(), events, *this)) watched_ = events;
}

void MuxConnection::on_ready(std::uint32_t events) {
    if (connecting_) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        if (error != 0) {
            lost(fmt::format("the FastCGI application at {} is not reachable: {}",
                             pool_.address().text, std::strerror(error)));
            return;
        }
        connecting_ = false;
        flush();
        return;
    }
    if ((events & http::DescriptorTask::writable) != 0) flush();
    if ((events & http::DescriptorTask::readable) != 0) read_in();  // may delete this
}

void MuxConnection::read_in() {
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buffer_.data(), buffer_.size(), 0);
        if (n == 0) {
            lost(broken_.empty() ? "the application closed the connection" : broken_);
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            lost(broken_.empty() ? std::string(std::strerror(errno)) : broken_);
            return;
        }
        std::string_view input(buffer_.data(), static_cast<std::size_t>(n));
        for (;;) {
            Piece piece = parser_.next(input);
            if (piece.kind == Piece::Kind::need_more) break;
            if (piece.kind == Piece::Kind::error) {
                lost("the application broke the FastCGI protocol: " + parser_.error());
                return;
            }
            dispatch(piece);
        }
        update_watch();
        return;  // level-triggered: the next wake-up reads on
    }
}

void MuxConnection::dispatch(const Piece& piece) {
    if (piece.kind == Piece::Kind::values_result) return;  // not asked for here
    if (piece.request_id == 0 || piece.request_id > slots_.size()) return;
    Slot& slot = slots_[piece.request_id - 1];
    switch (slot.state) {
        case SlotState::free:
            return;  // a request this side never began (the application's mistake): dropped
        case SlotState::aborting:
            // The rest of an aborted request's output is read and dropped; its end frees the id.
            if (piece.kind == Piece::Kind::end_request) free_slot(piece.request_id);
            return;
        case SlotState::active:
            slot.request->on_multiplexed_piece(piece);  // may release the slot
            return;
    }
}

void MuxConnection::lost(std::string_view why) {
    std::string reason(why);  // `why` may point into what is about to go
    if (watched_ != 0 && context_.descriptors() != nullptr)
        context_.descriptors()->unwatch(fd_.get());
    watched_ = 0;
    for (Slot& slot : slots_) {
        Request* request = slot.request;
        slot = Slot{};
        if (request != nullptr) request->on_multiplexed_lost(reason);
    }
    taken_ = 0;
    pool_.multiplexed_lost(*this);  // deletes this
}

void MuxConnection::close() {
    if (watched_ != 0 && context_.descriptors() != nullptr)
        context_.descriptors()->unwatch(fd_.get());
    watched_ = 0;
    fd_.reset();
}

}  // namespace c10k::fastcgi
