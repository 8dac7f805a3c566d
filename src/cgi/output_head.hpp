#pragma once
// The head a CGI program writes before its body (RFC 3875 section 6): header lines ending in
// LF or CRLF, then an empty line. Status ("404 Not Found") sets the status; Location without
// Status is a redirect (302); every other field goes to the client as the program wrote it,
// except those the server writes itself (framing and connection fields).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace c10k::http {
class Pending;
enum class Method : std::uint8_t;
}  // namespace c10k::http

namespace c10k::cgi {

/// A program's standard error to the error log, line by line, each line naming `who`
/// ("cgi: /cgi-bin/x.sh", "fastcgi: /index.php"; nginx's "FastCGI sent in stderr"). `partial`
/// keeps a line not yet ended between calls; a line that never ends is cut at 4 KiB.
/// `flush`: the stream ended, and what is left of the last line goes too.
void log_error_lines(std::string& partial, std::string_view bytes, std::string_view who,
                     bool flush = false);

class OutputHead {
public:
    explicit OutputHead(std::size_t max_bytes = 16 * 1024) : max_bytes_(max_bytes) {}

    enum class State { more, done, invalid };
    /// Takes bytes of the program's output; `used` says how many belong to the head (the rest
    /// is body). After done or invalid, nothing more is taken.
    State feed(const char* data, std::size_t size, std::size_t& used);

    int status() const { return status_; }
    /// The fields for the client, in order (Status and the fields the server writes removed).
    const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
    /// Content-Length as the program gave it; -1 when it gave none.
    long long content_length() const { return content_length_; }
    /// A local redirect (RFC 3875 section 6.2.2): Location is a path ("/other?x") and no
    /// Status was given; the server serves local_location() in place of this response.
    bool local_redirect() const { return local_redirect_; }
    const std::string& local_location() const { return local_location_; }
    /// Why the head was refused (invalid).
    const std::string& error() const { return error_; }

private:
    State line(std::string_view text);

    std::size_t max_bytes_;
    std::size_t seen_ = 0;
    std::string pending_;  ///< the current line so far
    std::vector<std::pair<std::string, std::string>> fields_;
    int status_ = 0;
    bool has_location_ = false;
    bool local_redirect_ = false;
    std::string local_location_;
    bool has_content_type_ = false;
    long long content_length_ = -1;
    std::string error_;
    State state_ = State::more;
};

/// Starts the client's answer from a program's parsed head: with its Content-Length when it
/// gave one (`remaining` then counts the body still owed, else it is -1), otherwise chunked to
/// an HTTP/1.1 client and ended by the close for HTTP/1.0. Returns whether body bytes go on to
/// the client (not after a HEAD, nor when the client left).
bool start_answer(const OutputHead& head, http::Method method, http::Pending& pending,
                  long long& remaining);

}  // namespace c10k::cgi
