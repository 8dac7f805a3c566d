#pragma once
// An incremental Server-Sent Events parser, following the WHATWG HTML "event stream
// interpretation" algorithm: lines end in CRLF, LF or CR (a CR at the end of one read and the LF
// at the start of the next are one line end); a leading BOM is dropped; ':' starts a comment;
// `data` lines join with LF; `id` sets the last event ID unless it holds NUL; `retry` takes only
// ASCII digits; a blank line ends the event. It is fed the body of the stream (already
// de-chunked) in pieces of any size.
//
// A bench loop holds up to a million of these, so an idle one is small and owns no heap: an event
// that arrives whole within one read is parsed where it lies (its data and type are views into
// the caller's buffer), and only an event split across reads is copied, into storage made for it
// and freed once it is dispatched. The last event ID, a decimal number from most servers, is kept
// as a number; any other text gets storage of its own.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
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
    explicit SseParser(std::size_t max_bytes = 1 << 20)
        : max_bytes_(static_cast<std::uint32_t>(std::min<std::size_t>(max_bytes, UINT32_MAX))) {}

    /// Starts a new stream (a reconnect): forgets partial lines and the event being built. The
    /// last event ID and the counters are kept, as an EventSource keeps them across reconnects.
    void reset();
    /// Parses `size` bytes, calling `on_event` for each complete event. The bytes need to stay
    /// valid only for this call.
    Outcome feed(const char* data, std::size_t size, OnEvent on_event, void* context);

    /// The WHATWG last event ID buffer: what a reconnect sends as Last-Event-ID.
    std::string last_event_id() const;
    /// The last valid `retry` field, milliseconds.
    std::optional<std::uint64_t> retry_ms() const {
        return has_retry_ ? std::optional<std::uint64_t>(retry_ms_) : std::nullopt;
    }
    /// Comment lines seen (the server's heartbeats).
    std::uint64_t comments() const { return comments_; }

private:
    /// What an event split across reads keeps until its blank line arrives.
    struct Spill {
        std::string partial;  ///< the start of a line whose end has not arrived yet
        std::string data;     ///< `data` lines so far, joined with LF
        std::string type;
        bool empty() const { return partial.empty() && data.empty() && type.empty(); }
    };
    /// The event being built, where its data and type still lie in the bytes of this feed().
    struct InFeed;
    enum class IdKind : std::uint8_t { empty, number, text };

    Outcome parse(const char* data, std::size_t size, InFeed& in_feed, OnEvent on_event,
                  void* context);
    /// `stable`: `text` lies in the bytes being fed (not in the spill's partial line, which is
    /// reused at once), so views of it may be kept until feed() returns.
    bool line(std::string_view text, bool stable, InFeed& in_feed, OnEvent on_event, void* context);
    void set_last_event_id(std::string_view value);
    std::string_view data_so_far(const InFeed& in_feed) const;
    void dispatch(InFeed& in_feed, OnEvent on_event, void* context);
    Spill& spill() {
        if (!spill_) spill_ = std::make_unique<Spill>();
        return *spill_;
    }

    std::unique_ptr<Spill> spill_;          ///< null between events
    std::unique_ptr<std::string> id_text_;  ///< the last event ID when IdKind::text
    std::uint64_t id_number_ = 0;           ///< the last event ID when IdKind::number
    std::uint64_t retry_ms_ = 0;
    std::uint64_t comments_ = 0;
    std::uint32_t max_bytes_;
    std::uint8_t bom_matched_ = 0;  ///< bytes of a leading UTF-8 BOM seen so far
    IdKind id_kind_ = IdKind::empty;
    bool bom_done_ : 1 = false;
    bool skip_lf_ : 1 = false;  ///< the last byte was a CR: an LF right after it ends nothing
    bool has_id_ : 1 = false;
    bool has_fields_ : 1 = false;
    bool has_data_ : 1 = false;  ///< a `data` line arrived: the data buffer is not empty
    bool has_retry_ : 1 = false;
};

}  // namespace c10k::bench
