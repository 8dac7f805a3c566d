#pragma once
// An incremental Server-Sent Events parser, following the WHATWG HTML "event stream
// interpretation" algorithm: lines end in CRLF, LF or CR (a CR at the end of one read and the LF
// at the start of the next are one line end); a leading BOM is dropped; ':' starts a comment;
// `data` lines join with LF; `id` sets the last event ID unless it holds NUL; `retry` takes only
// ASCII digits; a blank line ends the event. It is fed the body of the stream (already
// de-chunked) in pieces of any size, and keeps only the partial line and the event being built
// between reads, so that a bench loop can hold tens of thousands of them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c10k::bench {

class SseParser {
public:
    /// One event block, reported at the blank line that ends it. The views are valid only
    /// during the callback.
    struct Event {
        std::string_view type;  ///< the `event` field; empty means the default, "message"
        std::string_view data;  ///< `data` lines joined with LF, without the final LF
        /// The last event ID buffer after this block (WHATWG keeps it across events).
        std::string_view last_event_id;
        /// This block itself had a valid `id` field. The bench sequences only such events: the
        /// server's `history-lost` notice carries no id and must not look like a message.
        bool has_id = false;
        /// The data buffer was not empty, so a browser would dispatch the event. A block with
        /// only `event:` or `id:` is still reported (the bench counts `history-lost` either way).
        bool dispatched = false;
    };
    /// Called for each block that had at least one event, data or id field.
    using OnEvent = void (*)(void* context, const Event& event);

    enum class Outcome {
        ok,
        too_long,  ///< a line or an event's data went past the limit: the stream is not trusted
    };

    /// `max_bytes` bounds a partial line and the data of one event, so that a server that never
    /// sends a line end cannot make the bench grow without bound.
    explicit SseParser(std::size_t max_bytes = 1 << 20) : max_bytes_(max_bytes) {}

    /// Starts a new stream (a reconnect): forgets partial lines and the event being built. The
    /// last event ID and the counters are kept, as an EventSource keeps them across reconnects.
    void reset();
    /// Parses `size` bytes, calling `on_event` for each complete event.
    Outcome feed(const char* data, std::size_t size, OnEvent on_event, void* context);

    /// The WHATWG last event ID buffer: what a reconnect sends as Last-Event-ID.
    const std::string& last_event_id() const { return last_event_id_; }
    /// The last valid `retry` field, milliseconds.
    std::optional<std::uint64_t> retry_ms() const { return retry_ms_; }
    /// Comment lines seen (the server's heartbeats).
    std::uint64_t comments() const { return comments_; }

private:
    bool line(std::string_view text, OnEvent on_event, void* context);
    void dispatch(OnEvent on_event, void* context);

    std::size_t max_bytes_;
    std::string partial_;  ///< the start of a line whose end has not arrived yet
    std::string data_;
    std::string type_;
    std::string last_event_id_;
    std::optional<std::uint64_t> retry_ms_;
    std::uint64_t comments_ = 0;
    std::uint8_t bom_matched_ = 0;  ///< bytes of a leading UTF-8 BOM seen so far
    bool bom_done_ = false;
    bool skip_lf_ = false;  ///< the last byte was a CR: an LF right after it ends nothing
    bool has_id_ = false;
    bool has_fields_ = false;
};

}  // namespace c10k::bench
