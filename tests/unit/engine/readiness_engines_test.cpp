// The readiness engines' own edge cases, run in-process: a ReadinessLoop over the poller under
// test on a thread, a StopSource to end it, and plain blocking clients on loopback.
//   - select refuses a connection whose descriptor is >= FD_SETSIZE cleanly, and goes on
//     serving others;
//   - sigio keeps serving every connection when the realtime signal queue overflows, by
//     falling back to poll() sweeps.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/net.hpp"
#include "engine/pollers.hpp"
#include "engine/readiness_loop.hpp"
#include "http/handler.hpp"

namespace c10k::engine {
namespace {

class HelloHandler : public http::Handler {
public:
    void handle(const http::Request&, http::Response& response) override {
        response.set_status(200);
        response.add_header("Content-Type", "text/plain");
        response.set_body("hello\n");
    }
};

/// One ReadinessLoop on its own thread, listening on 127.0.0.1 with an ephemeral port.
class LoopUnderTest {
public:
    explicit LoopUnderTest(std::unique_ptr<Poller> poller) : budget_(0) {
        core::Endpoint endpoint;
        std::string error;
        EXPECT_TRUE(core::parse_endpoint("127.0.0.1:0", endpoint, error)) << error;
        listeners_ = std::make_unique<ListenerSet>(std::vector<core::Endpoint>{endpoint});
        port_ = listeners_->endpoints().front().port();
        config_.shutdown_grace_ms = 2000;
        auto fds = listeners_->for_loop();
        EXPECT_TRUE(fds.ok());
        loop_ = std::make_unique<ReadinessLoop>(std::move(poller), std::move(fds.value()),
                                                std::make_unique<HelloHandler>(),
                                                LoopShared{config_, budget_, stop_, -1});
        thread_ = std::thread([this] { result_ = loop_->run(); });
    }
    ~LoopUnderTest() { stop(); }

    /// Stops the loop and waits for it; returns run()'s result.
    int stop() {
        stop_.request();
        if (thread_.joinable()) thread_.join();
        return result_;
    }
    int port() const { return port_; }
    const LoopStats& stats() const { return loop_->stats(); }

private:
    ServerConfig config_;
    ConnectionBudget budget_;
    StopSource stop_;
    std::unique_ptr<ListenerSet> listeners_;
    std::unique_ptr<ReadinessLoop> loop_;
    std::thread thread_;
    int port_ = 0;
    int result_ = -1;
};

core::unique_fd connect_to(int port) {
    core::unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
}

/// Reads until the peer closes or 5 s pass; returns what came.
std::string read_until_closed(int fd) {
    std::string text;
    char buffer[4096];
    for (;;) {
        pollfd wait{fd, POLLIN, 0};
        if (::poll(&wait, 1, 5000) <= 0) return text + "<timeout>";
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) return text;
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

/// Sends one request and reads until the (complete, small) response has arrived.
std::string ask(int fd, const char* request = "GET / HTTP/1.1\r\nHost: t\r\n\r\n") {
    std::string text(request);
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    std::string response;
    char buffer[4096];
    while (response.find("hello\n") == std::string::npos) {
        pollfd wait{fd, POLLIN, 0};
        if (::poll(&wait, 1, 5000) <= 0) return response + "<timeout>";
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) return response + "<closed>";
        response.append(buffer, static_cast<std::size_t>(n));
    }
    return response;
}

TEST(SelectEngine, RefusesADescriptorAboveFdSetsizeAndKeepsServing) {
    LoopUnderTest loop(make_select_poller());
    {
        core::unique_fd before = connect_to(loop.port());
        EXPECT_NE(ask(before.get()).find("200 OK"), std::string::npos);
    }
    // Fill the descriptor table up to FD_SETSIZE, so that the next connection the server
    // accepts (in this same process) gets a descriptor select() cannot watch.
    std::vector<core::unique_fd> fillers;
    for (;;) {
        core::unique_fd filler(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(filler) << "RLIMIT_NOFILE must allow more than FD_SETSIZE descriptors";
        bool done = filler.get() >= FD_SETSIZE - 2;
        fillers.push_back(std::move(filler));
        if (done) break;
    }
    core::unique_fd refused = connect_to(loop.port());  // the client: FD_SETSIZE - 1 or so
    ASSERT_GE(refused.get(), FD_SETSIZE - 2);
    EXPECT_EQ(::write(refused.get(), "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 27), 27);
    // Closed at once, with no response: nothing else can be done for it.
    EXPECT_EQ(read_until_closed(refused.get()), "");
    fillers.clear();
    core::unique_fd after = connect_to(loop.port());
    EXPECT_NE(ask(after.get()).find("200 OK"), std::string::npos);
    EXPECT_EQ(loop.stop(), 0);
    EXPECT_GE(loop.stats().refused_fd_too_high, 1u);
    EXPECT_EQ(loop.stats().accepted, 2u);
}

/// Lowers RLIMIT_SIGPENDING for the test's duration (this process only).
class SignalQueueLimit {
public:
    explicit SignalQueueLimit(rlim_t limit) {
        ::getrlimit(RLIMIT_SIGPENDING, &saved_);
        rlimit lowered = saved_;
        lowered.rlim_cur = limit;
        ok_ = ::setrlimit(RLIMIT_SIGPENDING, &lowered) == 0;
    }
    ~SignalQueueLimit() { ::setrlimit(RLIMIT_SIGPENDING, &saved_); }
    bool ok() const { return ok_; }

private:
    rlimit saved_{};
    bool ok_ = false;
};

TEST(SigioEngine, ServesEveryConnectionWhenTheSignalQueueOverflows) {
    // With no room for a single queued realtime signal, every readiness change overflows:
    // the kernel raises SIGIO instead, and only the poll() sweeps find what is ready.
    SignalQueueLimit limit(0);
    ASSERT_TRUE(limit.ok());
    auto poller = make_sigio_poller();
    SigioPoller* sigio = poller.get();
    LoopUnderTest loop(std::move(poller));
    constexpr int kClients = 20;
    std::vector<core::unique_fd> clients;
    for (int i = 0; i < kClients; ++i) clients.push_back(connect_to(loop.port()));
    for (int round = 0; round < 3; ++round) {  // keep-alive: several requests each
        for (auto& client : clients) {
            EXPECT_NE(ask(client.get()).find("HTTP/1.1 200 OK"), std::string::npos);
        }
    }
    clients.clear();
    EXPECT_EQ(loop.stop(), 0);
    EXPECT_GT(sigio->stats().overflows, 0u);
    EXPECT_GT(sigio->stats().sweeps, 0u);
    EXPECT_EQ(loop.stats().accepted, static_cast<std::uint64_t>(kClients));
}

TEST(SigioEngine, TakesRealtimeSignalsWhenTheQueueHasRoom) {
    auto poller = make_sigio_poller();
    SigioPoller* sigio = poller.get();
    LoopUnderTest loop(std::move(poller));
    core::unique_fd client = connect_to(loop.port());
    for (int i = 0; i < 5; ++i) {
        EXPECT_NE(ask(client.get()).find("HTTP/1.1 200 OK"), std::string::npos);
    }
    client.reset();
    EXPECT_EQ(loop.stop(), 0);
    EXPECT_GT(sigio->stats().signals, 0u);
    EXPECT_EQ(sigio->stats().overflows, 0u);
}

}  // namespace
}  // namespace c10k::engine
