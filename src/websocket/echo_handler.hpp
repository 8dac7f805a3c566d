#pragma once
// EchoHandler: WebSocket locations that send every message back as it came (text as text,
// binary as binary), as the echo servers that conformance suites (Autobahn's fuzzingclient)
// and `c10k bench --ws --echo` measure. Every other request goes to the fallback handler.

#include <memory>
#include <string>
#include <vector>

#include "http/handler.hpp"
#include "websocket/server_session.hpp"

namespace c10k::websocket {

class EchoHandler final : public http::Handler, private Endpoint {
public:
    /// `paths`: exact request paths (without the query) that echo, e.g. "/echo".
    EchoHandler(std::vector<std::string> paths, std::shared_ptr<const ServerConfig> config,
                std::unique_ptr<http::Handler> fallback);

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    std::uint64_t body_limit(std::uint8_t listener) const override;
    /// Echo paths stay on the loop (a WebSocket lives there); the rest is the fallback's call.
    bool answers_off_loop(const http::Request& request) const override;
    bool streams_body(std::uint8_t listener) const override {
        return fallback_ && fallback_->streams_body(listener);
    }

    /// Connections open on this loop now.
    std::size_t open_sessions() const { return open_; }

private:
    void on_message(ServerSession& session, MessageType type, std::string_view payload) override;
    void on_session_closed(ServerSession& session, std::uint16_t code) override;

    std::vector<std::string> paths_;
    std::shared_ptr<const ServerConfig> config_;
    std::unique_ptr<http::Handler> fallback_;
    http::LoopContext* context_ = nullptr;
    std::size_t open_ = 0;
};

}  // namespace c10k::websocket
