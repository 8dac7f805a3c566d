#pragma once
// One connection from the proxy to a backend server. It belongs to an Exchange while it
// carries a request, and to the handler's idle list between requests; events go to whichever
// holds it.

#include <cstdint>

#include "core/net.hpp"
#include "core/unique_fd.hpp"
#include "http/context.hpp"

namespace c10k::proxy {

class Exchange;
class ProxyHandler;

class Upstream final : public http::DescriptorTask, public http::TimerTask {
public:
    Upstream(ProxyHandler& handler, std::size_t server, core::unique_fd fd);
    ~Upstream();
    Upstream(const Upstream&) = delete;
    Upstream& operator=(const Upstream&) = delete;

    /// Starts a non-blocking connect to `address`: the socket, or an error (errno) when even
    /// that failed at once (the kernel refused a loopback connect, descriptors ran out).
    static core::Result<core::unique_fd> connect_to(const core::Endpoint& address);

    int fd() const { return fd_.get(); }
    std::size_t server() const { return server_; }
    /// Requests this connection carried before the current one: > 0 means reused.
    std::uint64_t uses() const { return uses_; }
    void count_use() { ++uses_; }

    /// Events go to `exchange` (null: the connection is idle in the handler's list).
    void attach(Exchange* exchange) { exchange_ = exchange; }

    /// Watches for `events` (DescriptorTask::readable/writable), 0 to stop watching.
    bool watch(std::uint32_t events);
    /// Arms the connection's one timer (re-arming moves it).
    void arm_timer(std::int64_t deadline_ms);
    void cancel_timer();

    void on_ready(std::uint32_t events) override;
    void on_timer() override;

private:
    ProxyHandler& handler_;
    std::size_t server_;
    core::unique_fd fd_;
    Exchange* exchange_ = nullptr;
    std::uint64_t uses_ = 0;
    std::uint32_t watched_ = 0;
};

}  // namespace c10k::proxy
