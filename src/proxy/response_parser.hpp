#pragma once
// One HTTP/1.x response from a backend server, parsed without I/O: c10k proxy feeds it the bytes
// it reads and hears back the head, the body (chunk framing removed) and the end. Everything
// the proxy cannot forward faithfully is an error the proxy turns into a 502: a proxy must
// never pass on, or guess at, a malformed response (RFC 9112 section 11.2, request smuggling
// and response splitting).
//
// Two readers look at every head: llhttp (the status line, field tokens, Content-Length and
// Transfer-Encoding) and a small line scanner of our own that refuses what llhttp 8 tolerates
// in its loose mode (a bare CR in the status line, obs-fold) and finds where the head ends. The
// two must agree on that end. The body is framed here, not by llhttp: Content-Length is a
// count, chunked is ChunkedDecoder (strict where llhttp is lenient), close-delimited is
// everything until the backend closes.

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "proxy/chunked_decoder.hpp"

namespace c10k::http {
class Response;
}

namespace c10k::proxy {

/// Why a backend's response cannot be forwarded. Each is a 502 for the client (or a cut
/// connection once part of the response went out) and a count for the server's health.
enum class ParseError : std::uint8_t {
    none,
    garbage,             ///< not an HTTP/1.x response: bad status line, version or status code
    header_too_large,    ///< the heads (interim ones included) or trailers exceed the limit
    too_many_headers,    ///< more header fields than Limits::max_headers
    invalid_header,      ///< obs-fold, a bare CR or LF, a malformed field name or value
    invalid_framing,     ///< CL with TE, a bad CL, a coding other than chunked, a bad chunk
    closed_before_head,  ///< the backend closed before the final head was complete
    closed_mid_body,     ///< the backend closed inside a body framed by length or chunks
};

/// A short English description ("garbage (not an HTTP response)"), for logs and 502 bodies.
const char* describe(ParseError error);

/// How the body of the final response is delimited.
enum class Framing : std::uint8_t {
    unknown,          ///< the head has not been parsed yet
    none,             ///< no body: a response to HEAD, 101, 204, 304
    length,           ///< Content-Length bytes (possibly 0)
    chunked,          ///< Transfer-Encoding: chunked
    close_delimited,  ///< until the backend closes (neither Content-Length nor chunked)
};

struct ParseResult {
    /// Bytes of the input that belong to this response. When the response completed inside
    /// the input, the bytes after it are not this response's (a backend that sent them is
    /// broken, or they are a 101's tunnel bytes). After an error it only says how far the
    /// parser got, which depends on how the input was split.
    std::size_t consumed = 0;
    ParseError error = ParseError::none;
    bool ok() const { return error == ParseError::none; }
};

class ResponseParser;

/// Hears a response as it is parsed. Called from inside ResponseParser::feed and on_eof, so a
/// sink must not reset or destroy the parser from a callback (it may once feed returns).
class ResponseSink {
public:
    /// The final head is complete (1xx interim responses other than 101 are skipped).
    /// The parser's head accessors are valid from now until its next reset().
    virtual void on_head(const ResponseParser& parser) = 0;
    /// A piece of body, in place in the caller's input, chunk framing removed. Never empty.
    virtual void on_body(const char* data, std::size_t size) = 0;
    /// The response ended (after on_head, and after the last on_body).
    virtual void on_complete() = 0;

protected:
    ~ResponseSink() = default;
};

class ResponseParser {
public:
    struct Limits {
        /// All the heads of one response together (interim ones too, so that an endless
        /// stream of 103s is bounded), and separately its trailer section.
        std::size_t max_header_bytes = 16 * 1024;
        std::size_t max_headers = 100;
    };

    ResponseParser();
    explicit ResponseParser(Limits limits);
    // llhttp holds a pointer back to the parser.
    ResponseParser(const ResponseParser&) = delete;
    ResponseParser& operator=(const ResponseParser&) = delete;

    /// Starts a response to a request with this method (a response to HEAD has no body).
    /// Reuses the storage of the previous response: no allocation once it is warm.
    void reset(http::Method request_method);

    /// Parses bytes of the response. Stops after the response's last byte (and on_complete);
    /// returns how many bytes were this response's, or an error. After an error or the end,
    /// consumes nothing and returns the same result again.
    ParseResult feed(const char* data, std::size_t length, ResponseSink& sink);

    /// The backend closed its side: completes a close-delimited body; anything else not yet
    /// complete is closed_before_head or closed_mid_body.
    ParseResult on_eof(ResponseSink& sink);

    bool complete() const { return phase_ == Phase::complete; }
    ParseError error() const { return error_; }
    /// What exactly was wrong, for logs (llhttp's reason or ours); empty without an error.
    const char* error_detail() const { return detail_; }

    /// Whether any byte of a response arrived since reset() (a kept-alive connection that
    /// closes before answering did not run the request: the stale-connection retry).
    bool got_any_byte() const { return got_any_byte_; }

    /// The backend's connection can carry another request: the response is complete, HTTP/1.1
    /// without Connection: close (or HTTP/1.0 with keep-alive), framed (not close-delimited)
    /// and not a 101.
    bool keep_alive() const { return phase_ == Phase::complete && keep_alive_; }

    // The final head; valid from on_head until the next reset().
    int status() const { return status_; }
    int version_minor() const { return version_minor_; }
    Framing framing() const { return framing_; }
    /// The Content-Length the backend announced (also for HEAD and 304, where it describes a
    /// body that is not sent); 0 without one (see has_content_length()).
    std::uint64_t content_length() const { return content_length_; }
    bool has_content_length() const { return has_content_length_; }
    /// The header fields as received, names and values without surrounding whitespace.
    std::span<const http::Header> headers() const { return views_; }
    /// The first value of that field (case-insensitive), or an empty view.
    std::string_view header(std::string_view name) const;

    /// Appends "Name: value\r\n" for each field the client should get, leaving out what a
    /// proxy must not forward (RFC 9110 section 7.6.1: Connection and every field it names,
    /// Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade; a 101 keeps its
    /// Connection and Upgrade) and what http::Session writes itself (Date, Server,
    /// Content-Length).
    void append_forwarded_headers(std::string& out) const;
    void append_forwarded_headers(http::Response& response) const;

private:
    friend struct ResponseCallbacks;
    enum class Phase : std::uint8_t { head, body, complete, failed };

    struct Field {
        std::uint32_t name_offset;
        std::uint32_t name_length;
        std::uint32_t value_offset;
        std::uint32_t value_length;
    };

    /// Where the line scanner stopped in the input given to it.
    struct Scan {
        std::size_t length = 0;  ///< bytes that are part of the head (or that precede an error)
        bool head_ended = false;
        ParseError error = ParseError::none;
        const char* detail = "";
    };

    std::size_t feed_head(const char* data, std::size_t length, ResponseSink& sink);
    std::size_t feed_body(const char* data, std::size_t length, ResponseSink& sink);
    Scan scan_head(const char* data, std::size_t length);
    void start_head();
    bool head_ended(ResponseSink& sink);
    bool check_head();
    void finish(ResponseSink& sink);
    void fail(ParseError error, const char* detail);
    void fail_from_llhttp(llhttp_errno_t code);
    bool forwarded(std::string_view name) const;

    // llhttp callbacks (through ResponseCallbacks).
    int on_status_complete();
    int on_header_field(const char* at, std::size_t length);
    int on_header_field_complete();
    int on_header_value(const char* at, std::size_t length);
    int on_header_value_complete();
    int on_headers_complete();

    Limits limits_;
    llhttp_t parser_{};
    ChunkedDecoder chunked_;
    Phase phase_ = Phase::head;
    ParseError error_ = ParseError::none;
    const char* detail_ = "";
    bool head_request_ = false;
    bool got_any_byte_ = false;
    bool keep_alive_ = false;
    bool has_content_length_ = false;
    Framing framing_ = Framing::unknown;
    int status_ = 0;
    int version_minor_ = 1;
    std::uint64_t content_length_ = 0;
    std::uint64_t body_remaining_ = 0;

    // The head being parsed: names and values back to back in text_, located by fields_.
    std::string text_;
    std::vector<Field> fields_;
    std::vector<http::Header> views_;  // filled once the head is complete
    /// The values of the head's Connection fields, which name more hop-by-hop fields: found
    /// once, not once per field forwarded.
    std::vector<std::string_view> connection_values_;
    bool field_open_ = false;          // the last field has a name but its value is not over
    bool status_seen_ = false;         // llhttp finished the status line
    bool llhttp_head_done_ = false;    // llhttp called on_headers_complete
    std::uint16_t llhttp_flags_ = 0;   // its flags (F_CONTENT_LENGTH...) at that moment
    std::uint64_t llhttp_content_length_ = 0;
    ParseError callback_error_ = ParseError::none;  // set by a callback that stops llhttp
    const char* callback_detail_ = "";

    // The line scanner: bytes of all heads so far, and where it is in the current head.
    std::size_t head_bytes_ = 0;
    std::size_t line_index_ = 0;   // 0: the status line
    std::size_t line_length_ = 0;  // bytes in the current line before its CR
    bool after_cr_ = false;
};

}  // namespace c10k::proxy
