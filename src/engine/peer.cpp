#include <sys/socket.h>

#include "engine/engine.hpp"
#include "http/session.hpp"

namespace c10k::engine {

void note_peer(http::Session& session, int fd, const ServerConfig& config, bool wants_text) {
    bool checks_proxy = config.proxy_protocol_from && !config.proxy_protocol_from->empty();
    if (!wants_text && !checks_proxy) return;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
    if (wants_text) session.set_peer(core::address_text(address));
    if (checks_proxy && config.proxy_protocol_from->contains(address)) {
        session.expect_proxy_header();
    }
}

}  // namespace c10k::engine
