#pragma once
// What a handler answers. The handler sets a status, header lines and a body; http::Session adds
// the status line, Date, Server, Content-Length and Connection, and turns it into an output plan
// (iovecs and file segments) for the engine. A handler never touches a socket.
//
// A handler that cannot answer at once calls defer() instead, and answers later through the
// Pending it gets (http/pending.hpp): a long-poll, an event stream, a proxied response.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ref_ptr.hpp"
#include "core/unique_fd.hpp"
#include "http/pending.hpp"

namespace c10k::http {

/// Immutable bytes shared by many responses (a cached small file, a prebuilt header block).
struct Blob : core::RefCounted {
    explicit Blob(std::string bytes) : data(std::move(bytes)) {}
    std::string data;
};

/// An open file whose bytes are sent with sendfile(2) (or splice/SEND_ZC by engines that can).
struct OpenFile : core::RefCounted {
    OpenFile(core::unique_fd descriptor, std::uint64_t file_size)
        : fd(std::move(descriptor)), size(file_size) {}
    core::unique_fd fd;
    std::uint64_t size;
};

/// The standard reason phrase for a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

class Response;
/// Overload control's canned answer (docs/OVERLOAD.md): 503 with Retry-After, a short body,
/// and the connection closed too when `severe`. Costs next to nothing, so that the work
/// already admitted finishes sooner.
void answer_overloaded(Response& response, bool severe);

class Response {
public:
    enum class BodyKind : std::uint8_t { none, text, blob, file };

    void set_status(int status) { status_ = status; }
    int status() const { return status_; }

    /// Appends "name: value\r\n". Do not add Date, Server, Content-Length or Connection: the
    /// Session owns those.
    void add_header(std::string_view name, std::string_view value);
    /// Appends header lines that are already formatted, each ending in "\r\n".
    void add_header_lines(std::string_view lines) { headers_.append(lines); }
    const std::string& header_lines() const { return headers_; }

    /// A body owned by the response (error pages, generated text).
    void set_body(std::string text);
    /// A range of shared bytes (cached file contents); no copy is made.
    void set_body(core::RefPtr<Blob> blob, std::uint64_t offset, std::uint64_t length);
    /// A range of an open file, sent without copying it through user space where possible.
    void set_file_body(core::RefPtr<OpenFile> file, std::uint64_t offset, std::uint64_t length);
    /// A body that is described (Content-Length) but not sent, as HEAD and 304 need.
    void set_body_length_only(std::uint64_t length);

    BodyKind body_kind() const { return body_kind_; }
    std::uint64_t body_length() const { return body_length_; }
    std::uint64_t body_offset() const { return body_offset_; }
    std::string& text() { return text_; }
    const core::RefPtr<Blob>& blob() const { return blob_; }
    const core::RefPtr<OpenFile>& file() const { return file_; }
    /// False for 1xx, 204 and 304, which carry no Content-Length.
    bool has_content_length() const;

    /// Ask the Session to close the connection after this response.
    void close_connection() { close_ = true; }
    bool closes_connection() const { return close_; }

    /// Answers later: nothing is sent now, and the connection waits (reading no further
    /// requests) until the Pending answers, streams, or is closed. `owner` is told if the client
    /// leaves first. Only inside Handler::handle().
    Pending defer(PendingOwner& owner);
    bool deferred() const { return deferred_; }
    /// Set by the Session before it calls the handler.
    void set_session(Session* session) { session_ = session; }
    /// Resets to an empty 200 for reuse between requests.
    void clear();

private:
    int status_ = 200;
    BodyKind body_kind_ = BodyKind::none;
    bool close_ = false;
    bool deferred_ = false;
    Session* session_ = nullptr;
    std::string headers_;
    std::string text_;
    core::RefPtr<Blob> blob_;
    core::RefPtr<OpenFile> file_;
    std::uint64_t body_offset_ = 0;
    std::uint64_t body_length_ = 0;
};

}  // namespace c10k::http
