#pragma once
// A FastCGI application that misbehaves on demand, for what php-fpm cannot be made to do: a
// malformed record, a close in the middle of STDOUT, a kept-alive connection closed just as a
// request arrives. It listens on 127.0.0.1 (an ephemeral port) on a thread of its own, reads
// each request up to its empty STDIN record, and answers as the test's `behave` says.
//
// FCGI_GET_VALUES is answered as php-fpm answers it, FCGI_MPXS_CONNS=0 (or, with
// `answer_queries` false, not at all), and the connection then ends (the server closes it after
// the answer anyway); such a connection is not counted in connections(), so that the tests
// count the connections that carry requests. Built with Multiplexing instead, it answers
// FCGI_MPXS_CONNS=1, keeps the connection, and serves several requests on it at once, their STDOUT
// records interleaved. That mode exists because no application Debian ships multiplexes (php-fpm
// does not), so the server's multiplexed path could not be tested otherwise.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace c10k::test {

struct FastcgiReply {
    std::string bytes;   ///< sent as they are
    bool close = false;  ///< then close the connection (else keep it for the next request)
};

/// What a multiplexing mock answers one request.
struct MultiplexReply {
    std::string output;  ///< CGI output, sent as STDOUT records of Multiplexing::record_bytes
    /// Only this much of `output` is sent; the request then stays open until the server aborts
    /// it (or the connection closes). npos: all of it, then END_REQUEST.
    std::size_t send_bytes = std::string::npos;
};

struct Multiplexing {
    /// By the request's REQUEST_URI and body (its STDIN).
    std::function<MultiplexReply(const std::string& request_uri, const std::string& body)> behave;
    /// On the first connection, nothing is answered until this many requests are in flight.
    int gather = 1;
    /// On the first connection, after the first round of answers, the connection is closed.
    bool close_after_round = false;
    std::size_t record_bytes = 1000;
    int max_requests = 0;  ///< FCGI_MAX_REQS announced; 0: not said
};

class MockFastcgi {
public:
    /// `behave(connection, request)`: connection and request numbers start at 1; the request
    /// number counts across connections.
    using Behave = std::function<FastcgiReply(int connection, int request)>;
    /// `answer_queries` false: GET_VALUES is read and never answered (an application that does
    /// not know it).
    explicit MockFastcgi(Behave behave, bool answer_queries = true);
    explicit MockFastcgi(Multiplexing multiplexing);
    ~MockFastcgi();

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    int connections() const { return connections_.load(); }
    int requests() const { return requests_.load(); }
    /// GET_VALUES queries answered.
    int queries() const { return queries_.load(); }
    /// Multiplexing: the most requests begun and not ended at once on one connection.
    int most_in_flight() const { return most_in_flight_.load(); }
    /// Multiplexing: the distinct request ids seen, and the REQUEST_URIs aborted.
    std::vector<int> request_ids() const;
    std::vector<std::string> aborted() const;

private:
    void start();
    void run();
    void serve(int fd, int connection, std::string input);
    void serve_multiplexed(int fd, int connection, std::string input);
    bool send_all(int fd, std::string_view bytes);

    Multiplexing multiplexing_;
    bool multiplexes_ = false;
    bool answer_queries_ = true;
    std::atomic<int> queries_{0};
    std::atomic<int> most_in_flight_{0};
    mutable std::mutex mutex_;
    std::vector<int> request_ids_;
    std::vector<std::string> aborted_;

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
