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
    http::DescriptorWatcher* watcher = context_.descriptors();
    if (watcher != nullptr) {
        if (fd_) watcher->unwatch(fd_.get());
        // The Hub keeps the links themselves: it closes them when it goes.
        for (const auto& link : downstream_) watcher->unwatch(link->fd);
    }
    downstream_.clear();
    fd_.reset();
    report_.clear();
    watching_writable_ = false;
}

void GroupMember::on_tick() {
    if (hub_.sequencer()) return;
    if (!fd_) {
        connect_upstream();
    } else {
        report_counts(false);
    }
}

void GroupMember::on_ready(std::uint32_t events) {
    if (hub_.sequencer()) {
        accept_links();
        return;
    }
    if ((events & writable) != 0 && !flush_report()) return;
    if ((events & readable) != 0) read_frames();
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
        std::size_t number = hub_.add_downstream(core::unique_fd(fd));
        // The process reports its subscriber counts on the same link: read them here.
        auto link = std::make_unique<Downstream>(*this, fd, number);
        if (!context_.descriptors()->watch(fd, readable, *link)) {
            core::log(core::LogLevel::error,
                      "push: cannot watch a server process's link ({}); closing it",
                      std::strerror(errno));
            hub_.close_downstream(number);
            continue;
        }
        downstream_.push_back(std::move(link));
    }
}

void GroupMember::read_counts(Downstream& link) {
    char chunk[16 * 1024];
    for (;;) {
        // MSG_DONTWAIT: the descriptor stays blocking for the Hub's writes (see hub.cpp).
        ssize_t n = ::recv(link.fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n > 0) {
            link.buffer.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        close_link(link, n == 0 ? "the process closed it" : std::strerror(errno));
        return;
    }
    std::vector<GroupFrame> frames;
    if (!decode_frames(link.buffer, frames) || !hub_.apply_counts(link.link, frames)) {
        close_link(link, "it carried something that is not a counts frame");
    }
}

void GroupMember::close_link(Downstream& link, const char* why) {
    core::log(core::LogLevel::info,
              "push: a server process's link ended ({}); its subscribers leave the counts", why);
    context_.descriptors()->unwatch(link.fd);
    std::size_t number = link.link;
    // `link` is freed here; the engine drops any event of this batch still naming it.
    std::erase_if(downstream_, [&](const auto& each) { return each.get() == &link; });
    hub_.close_downstream(number);
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
    report_.clear();
    watching_writable_ = false;
    was_connected_ = true;
    // The sequencer knows nothing of this process's subscribers yet (or forgot them when the
    // previous link ended): every nonzero count, at once.
    report_counts(true);
}

void GroupMember::report_counts(bool all) {
    if (!fd_) return;
    // One report at a time: changes made meanwhile stay listed in the Registry for the next.
    if (report_.empty()) encode_counts(report_, hub_.registry().take_count_changes(all));
    flush_report();
}

bool GroupMember::flush_report() {
    while (!report_.empty()) {
        ssize_t n = ::send(fd_.get(), report_.data(), report_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            report_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        lose_upstream(n < 0 ? std::strerror(errno) : "it took nothing");
        return false;
    }
    bool want_writable = !report_.empty();
    if (want_writable != watching_writable_) {
        std::uint32_t events = want_writable ? readable | writable : readable;
        if (!context_.descriptors()->watch(fd_.get(), events, *this)) {
            lose_upstream(std::strerror(errno));
            return false;
        }
        watching_writable_ = want_writable;
    }
    return true;
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
    bool framed = decode_frames(buffer_, frames);
    if (framed) {
        // Counts go upstream only: the sequencer sending some is as wrong as garbage.
        for (const GroupFrame& frame : frames) {
            if (frame.kind == GroupFrame::Kind::counts) framed = false;
        }
    }
    if (!framed) {
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
