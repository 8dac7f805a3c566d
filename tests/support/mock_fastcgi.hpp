#pragma once
// A FastCGI application that misbehaves on demand, for what php-fpm cannot be made to do: a
// malformed record, a close in the middle of STDOUT, a kept-alive connection closed just as a
// request arrives. It listens on 127.0.0.1 (an ephemeral port) on a thread of its own, reads
// each request up to its empty STDIN record, and answers as the test's `behave` says.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace c10k::test {

struct FastcgiReply {
    std::string bytes;   ///< sent as they are
    bool close = false;  ///< then close the connection (else keep it for the next request)
};

class MockFastcgi {
public:
    /// `behave(connection, request)`: connection and request numbers start at 1; the request
    /// number counts across connections.
    using Behave = std::function<FastcgiReply(int connection, int request)>;
    explicit MockFastcgi(Behave behave);
    ~MockFastcgi();

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int connections() const { return connections_.load(); }
    int requests() const { return requests_.load(); }

private:
    void run();
    void serve(int fd, int connection);

    Behave behave_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

/// The bytes of one record (version 1, request 1, padded to 8).
std::string fastcgi_record(int type, std::string_view content, int request_id = 1);
/// STDOUT with `output`, its empty end, and END_REQUEST (complete, app status 0).
std::string fastcgi_response(std::string_view output);

}  // namespace c10k::test
