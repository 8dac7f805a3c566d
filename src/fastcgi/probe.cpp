#include "fastcgi/probe.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <utility>
#include <vector>

#include "fastcgi/pool.hpp"
#include "fastcgi/protocol.hpp"

namespace c10k::fastcgi {

namespace {

std::size_t number(const std::string& text) {
    std::size_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() ? value : 0;
}

}  // namespace

Capabilities read_capabilities(std::string_view content) {
    Capabilities capabilities;
    std::vector<std::pair<std::string, std::string>> pairs;
    if (!parse_pairs(content, pairs)) return capabilities;
    for (const auto& [name, value] : pairs) {
        if (name == "FCGI_MPXS_CONNS") capabilities.multiplexes = value == "1";
        if (name == "FCGI_MAX_CONNS") capabilities.max_connections = number(value);
        if (name == "FCGI_MAX_REQS") capabilities.max_requests = number(value);
    }
    return capabilities;
}

Probe::Probe(Pool& pool, http::LoopContext& context) : pool_(pool), context_(context) {}

Probe::~Probe() {
    if (scheduled()) context_.timers().cancel(*this);
    if (watched_ && context_.descriptors() != nullptr) context_.descriptors()->unwatch(fd_.get());
}

void Probe::start() {
    auto fd = connect_to(pool_.address());
    if (!fd || context_.descriptors() == nullptr) {
        finish({}, false);  // the requests find out for themselves, with the reason
        return;
    }
    fd_ = std::move(*fd);
    append_get_values(out_);
    connecting_ = true;
    if (!context_.descriptors()->watch(fd_.get(), http::DescriptorTask::writable, *this)) {
        finish({}, false);
        return;
    }
    watched_ = true;
    context_.timers().schedule(*this, context_.now_ms() + kWaitMs);
}

void Probe::on_ready(std::uint32_t events) {
    if (connecting_) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
            finish({}, false);
            return;
        }
        connecting_ = false;
    }
    if (!out_.empty()) {
        send_query();
        return;
    }
    if ((events & http::DescriptorTask::readable) == 0) return;
    char buffer[4096];
    ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        finish({}, false);
        return;
    }
    std::string_view input(buffer, static_cast<std::size_t>(n));
    for (;;) {
        Piece piece = parser_.next(input);
        if (piece.kind == Piece::Kind::need_more) return;
        if (piece.kind == Piece::Kind::values_result) {
            Capabilities capabilities = read_capabilities(piece.bytes);
            finish(capabilities, capabilities.multiplexes);
            return;
        }
        finish({}, false);  // anything else is not an answer to the query
        return;
    }
}

void Probe::send_query() {
    ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        finish({}, false);
        return;
    }
    out_.erase(0, static_cast<std::size_t>(n));
    if (out_.empty() &&
        !context_.descriptors()->watch(fd_.get(), http::DescriptorTask::readable, *this)) {
        finish({}, false);
    }
}

void Probe::on_timer() {
    finish({}, false);
}

void Probe::finish(Capabilities capabilities, bool keep) {
    if (scheduled()) context_.timers().cancel(*this);
    if (watched_) context_.descriptors()->unwatch(fd_.get());
    watched_ = false;
    core::unique_fd fd;
    if (keep) fd = std::move(fd_);
    fd_.reset();
    pool_.probed(capabilities, std::move(fd));  // deletes this
}

}  // namespace c10k::fastcgi
