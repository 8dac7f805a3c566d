#include "websocket/server_session.hpp"

#include "core/handover.hpp"
#include "http/session.hpp"

namespace c10k::websocket {

namespace {

/// Whether a comma-separated header value lists `token` (case-insensitive).
bool lists_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        std::size_t comma = value.find(',');
        std::string_view item = value.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (http::iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

bool wants_websocket(const http::Request& request) {
    for (const auto& header : request.headers) {
        if (http::iequals(header.name, "upgrade") && lists_token(header.value, "websocket")) {
            return true;
        }
    }
    return false;
}

HandshakeRequest handshake_request(const http::Request& request) {
    HandshakeRequest handshake;
    handshake.method = request.method_text;
    handshake.version_major = request.version_major;
    handshake.version_minor = request.version_minor;
    for (const auto& header : request.headers) handshake.add_header(header.name, header.value);
    return handshake;
}

void refuse(const HandshakeResult& result, http::Response& response) {
    response.set_status(result.status);
    for (const auto& header : result.headers) response.add_header(header.name, header.value);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    response.set_body(result.reason + "\n");
}

ServerSession* ServerSession::accept(const http::Request& request, http::Response& response,
                                     http::LoopContext& context, const ServerConfig& config,
                                     Endpoint& endpoint) {
    HandshakeResult result = accept_handshake(handshake_request(request), config.policy);
    if (!result.accepted()) {
        refuse(result, response);
        return nullptr;
    }
    auto* session = new ServerSession(context, config, endpoint, result.deflate);
    session->subprotocol_ = std::move(result.subprotocol);
    // The loop's Response is the one being answered: the 101 head is built in one of its own.
    http::Response head;
    head.set_status(101);
    for (const auto& header : result.headers) head.add_header(header.name, header.value);
    session->pending_ = response.defer(*session);
    session->pending_.upgrade(head, *session);
    return session;
}

ServerSession::ServerSession(http::LoopContext& context, const ServerConfig& config,
                             Endpoint& endpoint, std::optional<DeflateParams> deflate)
    : context_(context),
      endpoint_(endpoint),
      connection_(config.options, *this, *this, context.now_ms(), deflate) {
    std::int64_t deadline = connection_.deadline_ms();
    if (deadline != kNoDeadline) context_.timers().schedule(*this, deadline);
}

ServerSession::~ServerSession() {
    context_.timers().cancel(*this);
}

bool ServerSession::send_text(std::string_view payload) {
    Entry entry(*this);
    return !ended_ && connection_.send_text(payload);
}

bool ServerSession::send_binary(std::string_view payload) {
    Entry entry(*this);
    return !ended_ && connection_.send_binary(payload);
}

bool ServerSession::send_shared(core::RefPtr<http::Blob> frames, std::uint64_t offset,
                                std::uint64_t length) {
    if (!open() || !pending_) return false;
    pending_.write_framed(std::move(frames), offset, length);
    return true;
}

void ServerSession::close(std::uint16_t code, std::string_view reason) {
    Entry entry(*this);
    if (!ended_) connection_.close(context_.now_ms(), code, reason);
}

void ServerSession::abort() {
    Entry entry(*this);
    if (ended_) return;
    http::Pending pending = std::exchange(pending_, http::Pending());
    if (pending) pending.close();
    // Reported as an abnormal end: the Connection thinks the peer went away.
    connection_.on_peer_closed();
}

std::uint64_t ServerSession::queued_bytes() const {
    return pending_ ? pending_.queued_bytes() : 0;
}

void ServerSession::on_pending_closed() {
    // The client left, the connection timed out writing, or the engine is closing it.
    Entry entry(*this);
    pending_ = http::Pending();
    connection_.on_peer_closed();
}

void ServerSession::on_upgraded_input(const char* data, std::size_t size) {
    Entry entry(*this);
    connection_.feed(data, size, context_.now_ms());
}

void ServerSession::on_upgraded_stop() {
    // The server is stopping: 1001 "going away", or 1012 "service restart" when a new process
    // takes over (a reload or an upgrade), which tells the client to connect again at once.
    // The client's answer (or the close timeout, within the engine's grace period) ends it.
    Entry entry(*this);
    if (core::handover_draining()) {
        connection_.close(context_.now_ms(), close_code::service_restart, "server reloading");
    } else {
        connection_.close(context_.now_ms(), close_code::going_away, "server stopping");
    }
}

void ServerSession::on_message(MessageType type, std::string_view payload) {
    endpoint_.on_message(*this, type, payload);
}

void ServerSession::on_close(std::uint16_t code, std::string_view reason) {
    close_code_ = code;
}

void ServerSession::write(std::string frames) {
    if (pending_) pending_.write(frames);
}

void ServerSession::on_timer() {
    Entry entry(*this);
    connection_.on_timer(context_.now_ms());
}

void ServerSession::settle() {
    if (!connection_.finished()) {
        std::int64_t deadline = connection_.deadline_ms();
        // Lazy, as the engines' own timers: a later deadline is found when the earlier fires.
        if (deadline != kNoDeadline && (!scheduled() || deadline < expires_ms)) {
            context_.timers().schedule(*this, deadline);
        }
        return;
    }
    if (ended_) return;
    ended_ = true;
    // What is queued (the close frame) is sent, then the socket closes; the server closes
    // first, as RFC 6455 7.1.1 asks.
    http::Pending pending = std::exchange(pending_, http::Pending());
    if (pending) pending.finish();
    endpoint_.on_session_closed(*this, close_code_);
    delete this;
}

}  // namespace c10k::websocket
