#pragma once
// A raw HTTP/1.1 client for tests: it sends exactly the bytes a test gives it and reads
// responses with llhttp (HTTP_RESPONSE mode), keeping leftover bytes so that pipelined
// responses are read one by one.

#include <llhttp.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace c10k::test {

struct HttpResponse {
    int status = 0;
    int version_minor = 1;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// First header of that name (case-insensitive), or "" when absent.
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
};

class HttpClient {
public:
    /// Connects to 127.0.0.1:port (blocking, with a 5 s timeout). Throws on failure.
    explicit HttpClient(int port, const char* host = "127.0.0.1");
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Sends all bytes (bounded: throws if the server does not take them within 10 s).
    void send(std::string_view bytes);
    /// Sends "GET path HTTP/1.1\r\nHost: test\r\n<extra>\r\n".
    void send_get(std::string_view path, std::string_view extra_headers = {});

    /// Reads the next complete response. `head` tells the parser the request was a HEAD
    /// (so no body follows). Returns false on timeout, EOF before a complete response, or a
    /// parse error (see error()).
    bool read_response(HttpResponse& out, int timeout_ms = 5000, bool head = false);

    /// Waits until the server closes the connection (EOF or reset), reading and discarding
    /// anything else. True if it closed within timeout_ms.
    bool wait_closed(int timeout_ms = 5000);

    /// Any bytes received but not yet parsed.
    const std::string& pending() const { return pending_; }
    const std::string& error() const { return error_; }
    int fd() const { return fd_; }

private:
    bool fill(int timeout_ms);

    int fd_ = -1;
    std::string pending_;
    std::string error_;
    bool eof_ = false;
};

/// One request on a new connection: GET path, returns the response (status 0 on failure).
HttpResponse fetch(int port, std::string_view path, std::string_view extra_headers = {});

}  // namespace c10k::test
