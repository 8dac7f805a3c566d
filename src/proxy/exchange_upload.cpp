// The client's request body on its way to the server, streamed: the proxy holds at most
// --client-buffer of it (then stops reading the client, whose TCP window then fills), so a
// 1 GiB upload costs what a 1 KiB one does. While the whole request still fits in that
// buffer it is kept from its first byte, so a failed attempt can be sent again elsewhere
// (nginx buffers the body for the same reason, to a file if need be; past the buffer this
// proxy gives up the retry instead of the disk).

#include <cstdio>

#include "http/session.hpp"
#include "proxy/exchange.hpp"
#include "proxy/proxy_handler.hpp"
#include "proxy/upstream.hpp"

namespace c10k::proxy {

void Exchange::on_request_body(const char* data, std::size_t size) {
    queue_body(data, size);
    // Not connected yet (or waiting in the queue): the bytes wait with the head. Inside
    // send() (a resumed client handing over what it held): that loop sends them.
    if (upstream_ && step_ != Step::connecting && !in_send_) send();
}

void Exchange::on_request_body_end() {
    if (chunked_upload_) request_bytes_.append("0\r\n\r\n");  // no trailers: they were dropped
    body_done_ = true;
    if (upstream_ && step_ != Step::connecting && !in_send_) send();
}

void Exchange::queue_body(const char* data, std::size_t size) {
    if (size == 0) return;
    if (chunked_upload_) {
        char line[24];
        int n = std::snprintf(line, sizeof line, "%zx\r\n", size);
        request_bytes_.append(line, static_cast<std::size_t>(n));
        request_bytes_.append(data, size);
        request_bytes_.append("\r\n");
    } else {
        request_bytes_.append(data, size);
    }
    std::uint64_t limit = handler_.options().client_buffer_bytes;
    if (!body_paused_ && request_bytes_.size() - sent_ >= limit) {
        body_paused_ = true;
        pending_.pause_body();
    }
}

void Exchange::after_send() {
    std::uint64_t limit = handler_.options().client_buffer_bytes;
    if (sent_ > 0 && (!replayable_ || request_bytes_.size() > limit)) {
        // Past what a retry could keep: the bytes the server took are let go, and with them
        // the retry.
        replayable_ = false;
        request_bytes_.erase(0, sent_);
        sent_ = 0;
        preamble_size_ = 0;
    }
    if (body_paused_ && request_bytes_.size() - sent_ < limit / 2) {
        body_paused_ = false;
        pending_.resume_body();  // may hand over what it held: queued, send() goes on
    }
}

void Exchange::release_request() {
    replayable_ = false;
    if (upload_done()) {
        // A request-sized buffer is kept for the handler's pool; a large one is freed now.
        if (request_bytes_.capacity() > 16 * 1024) {
            std::string().swap(request_bytes_);
        } else {
            request_bytes_.clear();
        }
    } else {
        // The answer came before the body was all sent: the rest still goes up.
        request_bytes_.erase(0, sent_);
    }
    sent_ = 0;
    preamble_size_ = 0;
}

}  // namespace c10k::proxy
