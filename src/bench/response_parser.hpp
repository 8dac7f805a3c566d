#pragma once
// llhttp in HTTP_RESPONSE mode, reduced to what the load generator needs: "a response with this
// status completed" and "the bytes are not HTTP". llhttp handles Content-Length, chunked and
// close-delimited bodies and 1xx/204/304; HEAD is told to it per parser, since a response alone
// cannot say whether it answers a HEAD.

#include <llhttp.h>

#include <cstddef>

namespace c10k::bench {

class ResponseParser {
public:
    /// Called for each complete final (non-1xx) response. Return false to stop parsing: the
    /// caller is about to close the connection (for example after "Connection: close").
    using OnComplete = bool (*)(void* context, int status, bool keep_alive);

    enum class Outcome {
        ok,               ///< all bytes consumed (a response may be incomplete)
        stopped,          ///< OnComplete asked to stop; the remaining bytes were not parsed
        bad_status_line,  ///< the first line of a response is not "HTTP/1.x NNN ..."
        parse_error,      ///< anything else that is not valid HTTP/1.1
    };

    /// Starts a new connection: forgets any partial response.
    void reset(bool head, OnComplete on_complete, void* context);
    Outcome feed(const char* data, std::size_t length);
    /// The peer closed: completes a close-delimited body, or reports a truncated response.
    Outcome finish();
    /// True when part of a response has been received but not all of it.
    bool in_message() const { return in_message_; }
    /// llhttp's reason for the last error, for messages.
    const char* error_reason() const;

private:
    static int on_message_begin(llhttp_t* parser);
    static int on_status_complete(llhttp_t* parser);
    static int on_headers_complete(llhttp_t* parser);
    static int on_message_complete(llhttp_t* parser);
    static const llhttp_settings_t& settings();
    Outcome classify(llhttp_errno_t error) const;

    llhttp_t parser_{};
    OnComplete on_complete_ = nullptr;
    void* context_ = nullptr;
    bool head_ = false;
    bool in_message_ = false;
    bool status_seen_ = false;
};

}  // namespace c10k::bench
