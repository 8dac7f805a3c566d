#pragma once
// A backend server that misbehaves on demand, for the proxy's tests: the real backends
// (`c10k serve`) cannot be told to reset mid-response or answer garbage. It runs on a thread
// of its own, reads each request (head and Content-Length body), records it, and answers as
// the test's `behave` callback says. It stops and joins its thread at destruction.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace c10k::test {

/// A request as the backend received it.
struct ReceivedRequest {
    std::string method;
    std::string target;
    std::string head;  ///< the whole head, request line and headers, as sent
    std::string body;
    int connection = 0;     ///< which accepted connection (1, 2, ...)
    int on_connection = 0;  ///< the request's number on that connection (1, 2, ...)
};

/// What the backend does with a request.
struct Reply {
    enum class Then : unsigned char {
        keep,   ///< send `bytes` and keep the connection for the next request
        close,  ///< send `bytes`, then close
        reset,  ///< send `bytes`, then reset (RST: SO_LINGER 0)
        stall,  ///< send `bytes`, then send nothing more and never close
    };
    std::string bytes;
    Then then = Then::keep;
};

/// "HTTP/1.1 STATUS OK" with Content-Length and `body`.
std::string ok_response(std::string_view body, int status = 200, std::string_view headers = {});

class MockBackend {
public:
    using Behave = std::function<Reply(const ReceivedRequest&)>;
    explicit MockBackend(Behave behave);
    ~MockBackend();
    MockBackend(const MockBackend&) = delete;
    MockBackend& operator=(const MockBackend&) = delete;

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int accepted() const { return accepted_.load(); }
    /// Every request received so far, in order.
    std::vector<ReceivedRequest> requests();

private:
    struct Connection;
    void run();
    bool serve(Connection& connection);

    Behave behave_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    int port_ = 0;
    std::atomic<int> accepted_{0};
    std::mutex mutex_;
    std::vector<ReceivedRequest> requests_;
    std::thread thread_;
};

}  // namespace c10k::test
