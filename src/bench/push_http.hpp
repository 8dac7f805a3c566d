#pragma once
// llhttp in response mode for push: unlike ResponseParser (which only needs "a response with this
// status completed"), a subscriber needs the head as soon as it arrives (is this an event
// stream?), the few headers that carry a message's identity (ETag, X-Event, Content-Type), and
// the body as it streams in, de-chunked, in pieces of any size. llhttp does the framing:
// chunked, Content-Length, close-delimited, 1xx/204/304.

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace c10k::bench {

class PushResponseParser {
public:
    /// What the head of a response said. Views are valid only during the callback.
    struct Head {
        int status = 0;
        std::string_view content_type;
        std::string_view etag;
        std::string_view event;  ///< X-Event
        /// Sec-WebSocket-Accept and Sec-WebSocket-Extensions, for a WebSocket handshake's 101.
        std::string_view ws_accept;
        std::string_view ws_extensions;
    };
    /// Each callback returns false to stop parsing (the connection is about to be closed).
    struct Callbacks {
        bool (*on_head)(void* context, const Head& head) = nullptr;
        bool (*on_body)(void* context, const char* data, std::size_t size) = nullptr;
        bool (*on_complete)(void* context, bool keep_alive) = nullptr;
    };

    enum class Outcome {
        ok,           ///< all bytes consumed
        stopped,      ///< a callback asked to stop
        parse_error,  ///< not valid HTTP/1.1 (or a header line past the limit)
        /// A 101 Switching Protocols head ended: the bytes from upgrade_offset() on belong to
        /// the new protocol. The parser takes nothing more until reset().
        upgraded,
    };

    /// Starts a new connection.
    void reset();
    /// Parses `size` bytes, reporting to `callbacks` with `context`. Both are given per call,
    /// not kept: a push run holds a parser per subscriber, and they are the same for all.
    Outcome feed(const char* data, std::size_t size, const Callbacks& callbacks, void* context);
    /// The peer closed: completes a close-delimited body; an incomplete response is an error.
    Outcome finish(const Callbacks& callbacks, void* context);
    /// Part of a response has arrived but not all of it.
    bool in_message() const { return in_message_; }
    /// After Outcome::upgraded: how many bytes of the last feed() belonged to HTTP.
    std::size_t upgrade_offset() const { return upgrade_offset_; }

private:
    enum class Wanted : unsigned char { none, content_type, etag, event, ws_accept, ws_extensions };
    /// What llhttp's callbacks reach through its `data` pointer during one feed() or finish().
    struct Feeding {
        PushResponseParser* self;
        const Callbacks* callbacks;
        void* context;
    };
    static Feeding& feeding_of(llhttp_t* parser) { return *static_cast<Feeding*>(parser->data); }
    static PushResponseParser& self_of(llhttp_t* parser) { return *feeding_of(parser).self; }

    static int on_message_begin(llhttp_t* parser);
    static int on_header_field(llhttp_t* parser, const char* at, std::size_t length);
    static int on_header_field_complete(llhttp_t* parser);
    static int on_header_value(llhttp_t* parser, const char* at, std::size_t length);
    static int on_header_value_complete(llhttp_t* parser);
    static int on_headers_complete(llhttp_t* parser);
    static int on_body(llhttp_t* parser, const char* at, std::size_t length);
    static int on_message_complete(llhttp_t* parser);
    static const llhttp_settings_t& settings();
    Outcome classify(llhttp_errno_t error) const;
    void release_headers();

    /// The wanted headers' text, kept only while a head is being parsed.
    struct HeadText {
        std::string field;
        std::string value;
        std::string content_type;
        std::string etag;
        std::string event;
        std::string ws_accept;
        std::string ws_extensions;
    };
    HeadText& head_text() {
        if (!head_) head_ = std::make_unique<HeadText>();
        return *head_;
    }

    llhttp_t parser_{};
    // A subscriber holds its parser for as long as its stream lasts, and a push run holds up
    // to a million: the header text lives apart, made at a head's start and freed at its end.
    std::unique_ptr<HeadText> head_;
    std::uint32_t upgrade_offset_ = 0;  ///< within one feed(), whose reads are far smaller
    Wanted wanted_ = Wanted::none;
    bool in_message_ = false;
};

}  // namespace c10k::bench
