// One connection's I/O on the io_uring loop: the multishot receive into the loop's provided
// buffers, sends and file splices, lingering and closing. drive() decides what comes next,
// from the Session's state, after every completion and for every Session on the ready list.

#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "engine/uring_loop.hpp"

namespace c10k::engine {

std::size_t UringLoop::buffer_memory_bytes() const {
    return std::size_t{kBufferCount} * (kBufferBytes + sizeof(io_uring_buf));
}

void UringLoop::recycle(std::uint16_t buffer) {
    spare_buffers_.push_back(buffer);
    recycled_ = true;
}

void UringLoop::offer_buffers() {
    // The kernel takes the ring's buffers in order, so offering all of them would cycle each
    // receive through the whole pool (8 MiB, 2,048 pages): every copy into a cold line and
    // page. A few offered at a time, topped up before each submit with the ones returned last,
    // keep the pool's hot part small; a receive that finds none offered (ENOBUFS, while spare
    // ones wait) doubles the offer, so a burst over many connections gets what it needs; a
    // second without one halves it again (buffers already offered stay until used).
    if (offer_target_ > kFirstOffer && context_.now_s() > offer_grown_s_) {
        offer_target_ /= 2;
        offer_grown_s_ = context_.now_s();
    }
    int added = 0;
    while (offered_ < offer_target_ && !spare_buffers_.empty()) {
        std::uint16_t buffer = spare_buffers_.back();
        spare_buffers_.pop_back();
        io_uring_buf_ring_add(buffer_ring_, buffer_base_ + std::size_t{buffer} * kBufferBytes,
                              kBufferBytes, buffer, io_uring_buf_ring_mask(kBufferCount), added);
        ++added;
        ++offered_;
    }
    if (added > 0) io_uring_buf_ring_advance(buffer_ring_, added);
}

void UringLoop::rearm_starved() {
    if (!recycled_ || starved_.empty()) return;
    std::vector<Connection*> waiting;
    waiting.swap(starved_);
    for (Connection* conn : waiting) {
        conn->starved = false;
        drive(*conn);
    }
}

void UringLoop::register_file(Connection& conn) {
    // The slot is filled by an SQE of this batch, not a register call of its own: accepting
    // costs no extra system call. Sends keep naming the descriptor until its completion came.
    if (free_slots_.empty()) return;
    conn.slot = free_slots_.back();
    free_slots_.pop_back();
    conn.slot_fd = conn.fd;
    io_uring_prep_files_update(sqe(), &conn.slot_fd, 1, static_cast<int>(conn.slot));
    io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_register));
    ++conn.in_flight;
}

void UringLoop::on_registered(Connection& conn, int result) {
    --conn.in_flight;
    conn.slot_ready = result == 1 && !conn.closed;
}

void UringLoop::release_file(Connection& conn) {
    if (conn.slot == kNoSlot) return;
    if (ring_ready_) {
        // Emptied by an SQE too; it runs after every SQE already queued (sends still naming
        // the slot), and operations in flight keep the file they were issued with.
        static int empty = -1;
        io_uring_prep_files_update(sqe(), &empty, 1, static_cast<int>(conn.slot));
        io_uring_sqe_set_data64(last_sqe_, op_ignore);
        free_slots_.push_back(conn.slot);
    }
    conn.slot = kNoSlot;
    conn.slot_ready = false;
}

void UringLoop::set_send_target(Connection& conn) {
    if (!conn.slot_ready) return;
    last_sqe_->fd = static_cast<int>(conn.slot);
    last_sqe_->flags |= IOSQE_FIXED_FILE;
}

void UringLoop::arm_receive(Connection& conn) {
    io_uring_prep_recv_multishot(sqe(), conn.fd, nullptr, 0, 0);
    last_sqe_->flags |= IOSQE_BUFFER_SELECT;
    last_sqe_->buf_group = kBufferGroup;
    io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_recv));
    conn.receiving = true;
    conn.cancelling = false;
    ++conn.in_flight;
}

void UringLoop::cancel_receive(Connection& conn) {
    if (!conn.receiving || conn.cancelling || !ring_ready_) return;
    io_uring_prep_cancel64(sqe(), tag(&conn, op_recv), 0);
    io_uring_sqe_set_data64(last_sqe_, op_ignore);
    conn.cancelling = true;
}

void UringLoop::on_receive(Connection& conn, const io_uring_cqe& cqe) {
    if (!(cqe.flags & IORING_CQE_F_MORE)) {
        conn.receiving = false;
        --conn.in_flight;
    }
    if (cqe.flags & IORING_CQE_F_BUFFER) {
        --offered_;
        auto buffer = static_cast<std::uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
        if (cqe.res <= 0 || conn.closed || conn.lingering) {
            recycle(buffer);  // after close, or while lingering: discarded
        } else if (conn.sending) {
            // The send in flight will consume() the output's front when it completes; a
            // request parsed now would interleave with that.
            conn.held.push_back(HeldInput{buffer, static_cast<std::uint32_t>(cqe.res)});
        } else {
            conn.session.feed(buffer_base_ + std::size_t{buffer} * kBufferBytes,
                              static_cast<std::size_t>(cqe.res));
            recycle(buffer);
        }
    }
    if (conn.closed) return;
    if (cqe.res == 0) {
        if (conn.lingering) {
            close(conn);
            return;
        }
        // A subscriber that leaves is noticed here: a suspended Session keeps wants_read()
        // true, so its receive stays armed, and on_peer_closed() aborts the deferred response.
        if (conn.sending) {
            conn.peer_eof = true;
        } else {
            conn.session.on_peer_closed();
        }
    } else if (cqe.res == -ENOBUFS && !conn.receiving) {
        if (!spare_buffers_.empty()) {
            // Only the offered ones ran out: offer more from now on, and re-arm this receive
            // after this batch, when offer_buffers() has topped the ring up.
            offer_target_ = std::min(offer_target_ * 2, kBufferCount);
            offer_grown_s_ = context_.now_s();
            recycled_ = true;
        }
        // Otherwise every buffer is held (received while sends were in flight): re-arming now
        // would only fail again at once. Wait until one is given back.
        conn.starved = true;
        starved_.push_back(&conn);
        return;
    } else if (cqe.res < 0 && cqe.res != -ENOBUFS && cqe.res != -ECANCELED) {
        close(conn);  // reset by the peer: nobody to answer
        return;
    }
    drive(conn);
}

void UringLoop::drive(Connection& conn) {
    if (conn.closed) return;
    http::Session& session = conn.session;
    if (session.aborted()) {
        // A dropped deferred response (Pending::close, a subscriber past its bound, a client
        // gone): nothing more is owed to this client, not even what is queued. A send in flight
        // ends when close() shuts the socket down.
        close(conn);
        return;
    }
    if (conn.sending) return;
    if (conn.lingering) {
        if (!conn.receiving) arm_receive(conn);
        return;
    }
    if (session.has_output()) {
        start_send(conn);
        if (conn.closed) return;
    } else if (session.should_close()) {
        bool linger = !session.peer_closed() && (session.closing_after_error() || !stopping_);
        if (linger) {
            start_lingering(conn);
        } else {
            close(conn);
        }
        return;
    }
    if (session.wants_read()) {
        if (!conn.receiving) arm_receive(conn);
    } else {
        // Output backlog (or closing): stop taking input rather than buffer it unbounded.
        cancel_receive(conn);
    }
    update_timer(conn);
}

void UringLoop::start_send(Connection& conn) {
    http::Session& session = conn.session;
    std::size_t count = session.gather(conn.iov, kMaxIovecs);
    if (count > 0) {
        // Short pieces go from the connection's own staging copy (see Connection::staging):
        // a handler may append to this Session while the kernel reads the send. The first
        // piece always fits, so something is always sent.
        std::size_t staged = 0;
        conn.send_bytes = 0;
        for (std::size_t i = 0; i < count; ++i) {
            iovec& piece = conn.iov[i];
            if (piece.iov_len <= kSmallPieceBytes) {
                if (staged + piece.iov_len > kStagingBytes) {
                    count = i;  // the rest goes with the next send
                    break;
                }
                std::memcpy(conn.staging + staged, piece.iov_base, piece.iov_len);
                piece.iov_base = conn.staging + staged;
                staged += piece.iov_len;
            }
            conn.send_bytes += piece.iov_len;
        }
        if (count == 1) {
            io_uring_prep_send(sqe(), conn.fd, conn.iov[0].iov_base, conn.send_bytes, MSG_NOSIGNAL);
        } else {
            conn.message = msghdr{};
            conn.message.msg_iov = conn.iov;
            conn.message.msg_iovlen = count;
            io_uring_prep_sendmsg(sqe(), conn.fd, &conn.message, MSG_NOSIGNAL);
        }
        set_send_target(conn);
        io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_send));
        conn.sending = true;
        ++conn.in_flight;
        return;
    }
    http::FileRange range;
    if (!session.front_file(range)) return;
    if (!shared_.config.use_sendfile) {
        read_file(conn, range);
        return;
    }
    if (!conn.pipe.read_end && !take_pipe(conn.pipe)) {
        close(conn);
        return;
    }
    auto length = static_cast<unsigned>(std::min<std::uint64_t>(range.length, kPipeBytes));
    io_uring_prep_splice(sqe(), range.fd, static_cast<std::int64_t>(range.offset),
                         conn.pipe.write_end.get(), -1, length, SPLICE_F_MOVE);
    io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_splice_in));
    conn.sending = true;
    ++conn.in_flight;
}

void UringLoop::on_sent(Connection& conn, int result) {
    --conn.in_flight;
    conn.sending = false;
    if (conn.closed) return;
    if (result < 0 || (result == 0 && conn.send_bytes > 0)) {
        close(conn);
        return;
    }
    conn.session.consume(static_cast<std::size_t>(result));
    after_send(conn);
}

void UringLoop::on_spliced_in(Connection& conn, int result) {
    --conn.in_flight;
    if (conn.closed) {
        conn.sending = false;
        return;
    }
    if (result <= 0) {  // 0: the file shrank under us, and the framing with it
        conn.sending = false;
        close(conn);
        return;
    }
    conn.pipe_bytes = static_cast<std::uint32_t>(result);
    splice_out(conn);
}

void UringLoop::read_file(Connection& conn, const http::FileRange& range) {
    if (!conn.file_buffer) conn.file_buffer = std::make_unique<char[]>(kFileBufferBytes);
    auto length = static_cast<unsigned>(std::min<std::uint64_t>(range.length, kFileBufferBytes));
    // A buffered read the kernel completes asynchronously when the pages are not cached (its
    // own workers wait for the disk, not this thread).
    io_uring_prep_read(sqe(), range.fd, conn.file_buffer.get(), length, range.offset);
    io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_file_read));
    conn.sending = true;
    ++conn.in_flight;
}

void UringLoop::on_file_read(Connection& conn, int result) {
    --conn.in_flight;
    if (conn.closed) {
        conn.sending = false;
        return;
    }
    if (result <= 0) {  // 0: the file shrank under us, and the framing with it
        conn.sending = false;
        close(conn);
        return;
    }
    // on_sent consumes what the socket took; a short send reads the rest again next time.
    conn.send_bytes = static_cast<std::size_t>(result);
    io_uring_prep_send(sqe(), conn.fd, conn.file_buffer.get(), conn.send_bytes, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_send));
    ++conn.in_flight;
}

void UringLoop::splice_out(Connection& conn) {
    io_uring_prep_splice(sqe(), conn.pipe.read_end.get(), -1, conn.fd, -1, conn.pipe_bytes,
                         SPLICE_F_MOVE);
    io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_splice_out));
    ++conn.in_flight;
}

void UringLoop::on_spliced_out(Connection& conn, int result) {
    --conn.in_flight;
    if (conn.closed) {
        conn.sending = false;
        return;
    }
    if (result == -EAGAIN) {
        // The socket is non-blocking and its buffer is full; splice does not wait for room
        // the way send does, so ask for writability and splice again then.
        io_uring_prep_poll_add(sqe(), conn.fd, POLLOUT);
        io_uring_sqe_set_data64(last_sqe_, tag(&conn, op_writable));
        ++conn.in_flight;
        return;
    }
    if (result <= 0) {
        conn.sending = false;
        close(conn);
        return;
    }
    conn.session.consume(static_cast<std::size_t>(result));
    conn.pipe_bytes -= static_cast<std::uint32_t>(result);
    if (conn.pipe_bytes > 0) {
        splice_out(conn);
        return;
    }
    conn.sending = false;
    give_back_pipe(conn.pipe);
    after_send(conn);
}

void UringLoop::on_writable(Connection& conn) {
    --conn.in_flight;
    if (conn.closed) {
        conn.sending = false;
        return;
    }
    splice_out(conn);
}

void UringLoop::after_send(Connection& conn) {
    // The output's front is ours again: feed what arrived meanwhile, then carry on (a stream
    // that was given more while this send was in flight sends it now).
    for (const HeldInput& input : conn.held) {
        conn.session.feed(buffer_base_ + std::size_t{input.buffer} * kBufferBytes, input.length);
        recycle(input.buffer);
    }
    conn.held.clear();
    if (conn.peer_eof) {
        conn.peer_eof = false;
        conn.session.on_peer_closed();
    }
    drive(conn);
}

bool UringLoop::take_pipe(Pipe& pipe) {
    if (!pipes_.empty()) {
        pipe = std::move(pipes_.back());
        pipes_.pop_back();
        return true;
    }
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    pipe.read_end.reset(ends[0]);
    pipe.write_end.reset(ends[1]);
    ::fcntl(ends[1], F_SETPIPE_SZ, static_cast<int>(kPipeBytes));  // best effort
    return true;
}

void UringLoop::give_back_pipe(Pipe& pipe) {
    // Only an empty pipe is reused; one with bytes left in it (after an error) is closed.
    if (pipes_.size() < 64) pipes_.push_back(std::move(pipe));
    pipe = Pipe{};
}

void UringLoop::start_lingering(Connection& conn) {
    // Half-close and discard what still comes, so that unread input does not turn the
    // close into a RST that destroys the response (as the readiness loop does).
    ::shutdown(conn.fd, SHUT_WR);
    conn.lingering = true;
    conn.linger_until_ms = context_.now_ms() + kLingerMs;
    timers_.schedule(conn, conn.linger_until_ms);
    if (!conn.receiving) arm_receive(conn);
}

void UringLoop::close(Connection& conn) {
    if (conn.closed) return;
    conn.closed = true;
    // A deferred response's owner forgets it now, not when the memory is freed: the client
    // is gone for the handler as soon as the loop has let it go.
    conn.session.abandon();
    timers_.cancel(conn);
    // Operations still in flight hold the socket: shutting it down makes them complete
    // now, and the descriptor is closed when the last completion has come (reap).
    if (conn.in_flight > 0) {
        ::shutdown(conn.fd, SHUT_RDWR);
        cancel_receive(conn);
    }
    release_file(conn);
    for (const HeldInput& input : conn.held) recycle(input.buffer);
    conn.held.clear();
    if (conn.starved) std::erase(starved_, &conn);
    if (conn.prev != nullptr) conn.prev->next = conn.next;
    if (conn.next != nullptr) conn.next->prev = conn.prev;
    if (connections_ == &conn) connections_ = conn.next;
    conn.prev = conn.next = nullptr;
    --open_;
    shared_.budget.release();
    graveyard_.push_back(&conn);
}

}  // namespace c10k::engine
