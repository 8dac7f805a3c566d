#include "engine/output.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

namespace c10k::engine {

namespace {
constexpr std::size_t kMaxIovecs = 16;
// sendfile in pieces, so that one large response does not monopolise a loop.
constexpr std::uint64_t kMaxSendfileBytes = 2u << 20;
}  // namespace

bool write_output(int fd, http::Session& session, bool& blocked) {
    iovec iov[kMaxIovecs];
    while (session.has_output()) {
        std::size_t count = session.gather(iov, kMaxIovecs);
        std::size_t wanted = 0;
        ssize_t n;
        if (count > 0) {
            for (std::size_t i = 0; i < count; ++i) wanted += iov[i].iov_len;
            // send() skips the iovec import that writev pays for; most responses are one
            // buffer (head and small body together).
            n = count == 1 ? ::send(fd, iov[0].iov_base, wanted, MSG_NOSIGNAL)
                           : ::writev(fd, iov, static_cast<int>(count));
        } else {
            http::FileRange range;
            if (!session.front_file(range)) break;
            off_t offset = static_cast<off_t>(range.offset);
            wanted = static_cast<std::size_t>(std::min(range.length, kMaxSendfileBytes));
            n = ::sendfile(fd, range.fd, &offset, wanted);
            if (n == 0) return false;  // the file shrank under us: framing is lost, close
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                blocked = true;
                return true;
            }
            return false;
        }
        session.consume(static_cast<std::size_t>(n));
        if (static_cast<std::size_t>(n) < wanted && count > 0) {
            // A short write means the socket buffer is full (epoll(7)); the next writable event
            // says when to go on, without a write that would only return EAGAIN. Not so for
            // sendfile, which also stops short when the file's side does: only EAGAIN is proof.
            blocked = true;
            return true;
        }
    }
    return true;
}

}  // namespace c10k::engine
