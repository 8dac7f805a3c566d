#pragma once
// Test clients for live push: an SSE subscriber that reads the event stream as it arrives
// (chunked or close-delimited), and one-shot requests against the publish API.

#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {

struct SseEvent {
    std::string id;     ///< the id field, "" when the event had none
    std::string event;  ///< the event field, "" for the default "message"
    std::string data;   ///< data lines joined with '\n'
};

class SseClient {
public:
    /// Connects and sends `GET path` with Accept: text/event-stream (HTTP/1.0 if asked).
    /// `receive_buffer` > 0 sets SO_RCVBUF before connecting (a slow reader that the kernel
    /// cannot hide by growing its window).
    SseClient(int port, std::string_view path, std::string_view extra_headers = {},
              bool http10 = false, int receive_buffer = 0);
    ~SseClient();
    SseClient(const SseClient&) = delete;
    SseClient& operator=(const SseClient&) = delete;

    /// Reads the response head; false on timeout or EOF first.
    bool read_head(int timeout_ms = 5000);
    int status() const { return status_; }
    /// A header of the head, case-insensitive; "" when absent.
    std::string header(std::string_view name) const;
    /// The next event (comments and retry fields are counted, not returned); false on timeout
    /// or end of stream.
    bool next_event(SseEvent& out, int timeout_ms = 5000);
    /// Waits for the end of the stream: true when the last chunk arrived or the server closed.
    bool wait_end(int timeout_ms = 5000);
    bool saw_last_chunk() const { return last_chunk_; }
    bool closed() const { return eof_; }
    int comments() const { return comments_; }
    /// The value of the last retry field parsed so far ("" when none).
    const std::string& last_retry() const { return last_retry_; }
    int fd() const { return fd_; }

private:
    bool fill(int timeout_ms);
    void decode();
    bool parse_event(SseEvent& out);

    int fd_ = -1;
    int status_ = 0;
    bool chunked_ = false;
    bool last_chunk_ = false;
    bool eof_ = false;
    int comments_ = 0;
    std::string last_retry_;
    std::string raw_;   ///< received, not yet decoded
    std::string text_;  ///< decoded body, not yet parsed into events
    std::string head_;
};

/// The publish port printed by `c10k serve` ("c10k: publishing on http://HOST:PORT/pub/").
int publish_port(ServerProcess& server);

/// One request on a new connection: METHOD path with a body; returns the response.
HttpResponse request(int port, std::string_view method, std::string_view path,
                     std::string_view body = {}, std::string_view extra_headers = {});

}  // namespace c10k::test
