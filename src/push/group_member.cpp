#include "push/group_member.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "push/group_link.hpp"

namespace c10k::push {

namespace {

// Each link buffers a burst of publishes in the kernel, so the sequencer's blocking writes wait
// only for a process that stopped reading.
constexpr int kLinkBufferBytes = 4 << 20;

sockaddr_un address_of(const std::string& name, socklen_t& length) {
    // An abstract address (leading NUL): nothing in the file system to clean up after a crash.
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::size_t size = std::min(name.size(), sizeof address.sun_path - 1);
    std::memcpy(address.sun_path + 1, name.data(), size);
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + size);
    return address;
}

}  // namespace

GroupMember::GroupMember(Hub& hub, http::LoopContext& context) : hub_(hub), context_(context) {}

// The loop may be gone by now (a loop that failed stops without on_loop_stop): close only.
GroupMember::~GroupMember() = default;

void GroupMember::start() {
    if (!hub_.sequencer()) {
        connect_upstream();
        return;
    }
    core::unique_fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    socklen_t length = 0;
    sockaddr_un address = address_of(hub_.link_name(), length);
    if (!listener || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener.get(), 64) != 0) {
        core::log(core::LogLevel::error,
                  "push: cannot open the link for the other server processes ({}); their "
                  "subscribers will get no messages",
                  std::strerror(errno));
        return;
    }
    if (context_.descriptors() == nullptr ||
        !context_.descriptors()->watch(listener.get(), readable, *this)) {
        core::log(core::LogLevel::error, "push: this engine cannot watch the group link");
        return;
    }
    fd_ = std::move(listener);
}

void GroupMember::stop() {
    if (fd_ && context_.descriptors() != nullptr) context_.descriptors()->unwatch(fd_.get());
    fd_.reset();
}

void GroupMember::on_tick() {
    if (!hub_.sequencer() && !fd_) connect_upstream();
}

void GroupMember::on_ready(std::uint32_t) {
    if (hub_.sequencer()) {
        accept_links();
    } else {
        read_frames();
    }
}

void GroupMember::accept_links() {
    for (;;) {
        int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);  // blocking: see hub.cpp
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // EAGAIN, or out of descriptors: the process retries on its next tick
        }
        int buffer = kLinkBufferBytes;
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
        hub_.add_downstream(core::unique_fd(fd));
    }
}

void GroupMember::connect_upstream() {
    core::unique_fd link(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    socklen_t length = 0;
    sockaddr_un address = address_of(hub_.link_name(), length);
    int buffer = kLinkBufferBytes;
    ::setsockopt(link.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (::connect(link.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
        // The sequencer is not listening yet (start-up) or is being restarted: next tick.
        if (log_.allow(context_.now_ms()) && was_connected_) {
            core::log(core::LogLevel::warn,
                      "push: cannot reach the publishing process ({}); retrying every second",
                      std::strerror(errno));
        }
        return;
    }
    if (context_.descriptors() == nullptr ||
        !context_.descriptors()->watch(link.get(), readable, *this)) {
        core::log(core::LogLevel::error, "push: this engine cannot watch the group link");
        return;
    }
    fd_ = std::move(link);
    buffer_.clear();
    was_connected_ = true;
}

void GroupMember::read_frames() {
    char chunk[64 * 1024];
    for (;;) {
        ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        lose_upstream(n == 0 ? "the publishing process closed it" : std::strerror(errno));
        return;
    }
    std::vector<GroupFrame> frames;
    if (!decode_frames(buffer_, frames)) {
        lose_upstream("it carried something that is not a frame");
        return;
    }
    if (!frames.empty()) hub_.apply(frames);
}

void GroupMember::lose_upstream(const char* why) {
    core::log(core::LogLevel::error,
              "push: lost the link from the publishing process ({}); ending this process's "
              "streams so that clients reconnect",
              why);
    stop();
    hub_.upstream_lost();
}

}  // namespace c10k::push
