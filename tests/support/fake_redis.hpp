#pragma once
// A TCP listener on 127.0.0.1 that is not Redis, for tests of how the Redis backplane copes
// with a server that answers garbage or never answers at all. It runs on a thread of its own,
// accepts every connection, and either writes fixed bytes to it at once or reads and discards
// what it is sent without a word. It stops and joins its thread at destruction.

#include <atomic>
#include <string>
#include <thread>

namespace c10k::test {

class FakeRedis {
public:
    /// `reply` is written once to each connection right after it is accepted; empty: nothing
    /// is ever written (a server that accepts and then hangs). Throws std::system_error when
    /// the listener cannot be made.
    explicit FakeRedis(std::string reply);
    ~FakeRedis();
    FakeRedis(const FakeRedis&) = delete;
    FakeRedis& operator=(const FakeRedis&) = delete;

    int port() const { return port_; }
    /// Connections accepted so far (the server under test reconnects after each failure).
    int accepted() const { return accepted_.load(); }
    /// Bytes received so far on every connection (the commands the server sent).
    long long received() const { return received_.load(); }

private:
    void run();

    std::string reply_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    int port_ = 0;
    std::atomic<int> accepted_{0};
    std::atomic<long long> received_{0};
    std::thread thread_;
};

}  // namespace c10k::test
