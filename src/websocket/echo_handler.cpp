#include "websocket/echo_handler.hpp"

#include "http/context.hpp"

namespace c10k::websocket {

EchoHandler::EchoHandler(std::vector<std::string> paths, std::shared_ptr<const ServerConfig> config,
                         std::unique_ptr<http::Handler> fallback)
    : paths_(std::move(paths)), config_(std::move(config)), fallback_(std::move(fallback)) {}

bool EchoHandler::answers_off_loop(const http::Request& request) const {
    for (const auto& echo : paths_) {
        if (request.path() == echo) return false;
    }
    return fallback_ && fallback_->answers_off_loop(request);
}

void EchoHandler::handle(const http::Request& request, http::Response& response) {
    std::string_view path = request.path();
    for (const auto& echo : paths_) {
        if (path != echo) continue;
        if (ServerSession::accept(request, response, *context_, *config_, *this) != nullptr) {
            ++open_;
        }
        return;
    }
    if (fallback_) {
        fallback_->handle(request, response);
        return;
    }
    response.set_status(404);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    response.set_body("not found\n");
}

void EchoHandler::on_loop_start(http::LoopContext& context) {
    context_ = &context;
    if (fallback_) fallback_->on_loop_start(context);
}

void EchoHandler::on_loop_stop(http::LoopContext& context) {
    if (fallback_) fallback_->on_loop_stop(context);
    context_ = nullptr;
}

std::uint64_t EchoHandler::body_limit(std::uint8_t listener) const {
    return fallback_ ? fallback_->body_limit(listener) : 0;
}

void EchoHandler::on_message(ServerSession& session, MessageType type, std::string_view payload) {
    if (type == MessageType::text) {
        session.send_text(payload);
    } else {
        session.send_binary(payload);
    }
}

void EchoHandler::on_session_closed(ServerSession& session, std::uint16_t code) {
    --open_;
}

}  // namespace c10k::websocket
