#include "engine/output.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "engine/disk_helpers.hpp"

namespace c10k::engine {

namespace {
constexpr std::size_t kMaxIovecs = 16;
// sendfile in pieces, so that one large response does not monopolise a loop.
constexpr std::uint64_t kMaxSendfileBytes = 2u << 20;
// With disk helpers, the piece whose residency is checked (and that one helper reads): small
// enough that a helper's read returns soon, large enough to fill a socket buffer.
constexpr std::uint64_t kCheckedBytes = 512u << 10;
// --no-sendfile: what one pread + send moves. Bytes the socket did not take are read again
// next time rather than kept per connection: a copy, where the experiment measures copies.
constexpr std::size_t kCopyBufferBytes = 64u << 10;

/// What sending one file piece did: n > 0 bytes sent, 0 the file ended early, -1 errno set,
/// or `not_cached` (only when checking the cache).
constexpr ssize_t kNotCached = -2;

/// Whether the piece goes by sendfile, or is read into a buffer and sent. A small range that
/// must be checked goes by the copying path: there the check is the read itself
/// (RWF_NOWAIT), while for sendfile it is an mmap + mincore + munmap, which for a file of a
/// few kilobytes costs more than the copy that sendfile saves (docs/AMPED.md).
bool by_sendfile(const http::FileRange& range, const FileOutput& how) {
    return how.use_sendfile && !(how.check_cache && range.length <= kCopyBufferBytes);
}

ssize_t send_file_piece(int fd, const http::FileRange& range, const FileOutput& how,
                        std::size_t& wanted) {
    if (by_sendfile(range, how)) {
        std::uint64_t piece = std::min(range.length, kMaxSendfileBytes);
        if (how.check_cache) {
            piece = std::min(piece, kCheckedBytes);
            // Send the part that is in memory now; a helper fetches the rest.
            piece = resident_prefix(range.fd, range.offset, piece);
            if (piece == 0) return kNotCached;
        }
        off_t offset = static_cast<off_t>(range.offset);
        wanted = static_cast<std::size_t>(piece);
        return ::sendfile(fd, range.fd, &offset, wanted);
    }
    // One buffer per thread: a loop's connections take turns with it, and a blocking engine's
    // thread has its own.
    thread_local std::vector<char> buffer(kCopyBufferBytes);
    iovec iov{buffer.data(),
              static_cast<std::size_t>(std::min<std::uint64_t>(range.length, buffer.size()))};
    // RWF_NOWAIT is the check: it fails with EAGAIN (or reads short) when the pages are not
    // in the page cache, instead of waiting for the disk.
    ssize_t got = ::preadv2(range.fd, &iov, 1, static_cast<off_t>(range.offset),
                            how.check_cache ? RWF_NOWAIT : 0);
    if (got < 0) {
        if (errno == EAGAIN && how.check_cache) return kNotCached;
        if (errno == EOPNOTSUPP && how.check_cache) {
            // A file system without non-blocking reads: read it as the thread engines do.
            FileOutput blocking = how;
            blocking.check_cache = false;
            return send_file_piece(fd, range, blocking, wanted);
        }
        return -1;
    }
    if (got == 0) return 0;
    wanted = static_cast<std::size_t>(got);
    ssize_t sent = ::send(fd, buffer.data(), wanted, MSG_NOSIGNAL);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // Nothing left the buffer: the read is repeated at the next writable event.
        return -1;
    }
    return sent;
}
}  // namespace

bool write_output(int fd, http::Session& session, bool& blocked, const FileOutput& how,
                  http::FileRange* uncached, std::uint64_t* trusted) {
    if (uncached != nullptr) *uncached = {};
    iovec iov[kMaxIovecs];
    while (session.has_output()) {
        std::size_t count = session.gather(iov, kMaxIovecs);
        std::size_t wanted = 0;
        ssize_t n;
        bool file = count == 0;
        bool sendfile_used = false;
        if (!file) {
            for (std::size_t i = 0; i < count; ++i) wanted += iov[i].iov_len;
            // send() skips the iovec import that writev pays for; most responses are one
            // buffer (head and small body together).
            n = count == 1 ? ::send(fd, iov[0].iov_base, wanted, MSG_NOSIGNAL)
                           : ::writev(fd, iov, static_cast<int>(count));
        } else {
            http::FileRange range;
            if (!session.front_file(range)) break;
            FileOutput piece_how = how;
            piece_how.check_cache = how.check_cache && uncached != nullptr;
            std::uint64_t trust = trusted != nullptr ? *trusted : 0;
            if (piece_how.check_cache && trust > 0) {
                // A helper just read these bytes: send them, and no more, unchecked. Only
                // they: sendfile would otherwise read on into the next, uncached, megabytes.
                piece_how.check_cache = false;
                range.length = std::min(range.length, trust);
            }
            sendfile_used = by_sendfile(range, piece_how);
            n = send_file_piece(fd, range, piece_how, wanted);
            if (n > 0 && trust > 0) *trusted -= std::min<std::uint64_t>(trust, n);
            if (n == kNotCached) {
                *uncached = range;
                uncached->length = std::min(range.length, kCheckedBytes);
                return true;
            }
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
        if (static_cast<std::size_t>(n) < wanted && !sendfile_used) {
            // A short write means the socket buffer is full (epoll(7)); the next writable event
            // says when to go on, without a write that would only return EAGAIN. Not so for
            // sendfile, which also stops short when the file's side does: only EAGAIN is proof.
            // (A short read without sendfile is not a short write: wanted is what was read.)
            blocked = true;
            return true;
        }
    }
    return true;
}

}  // namespace c10k::engine
