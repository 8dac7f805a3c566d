#pragma once
// Sending a Session's queued output on a non-blocking socket: in-memory chunks with send() (one
// buffer) or writev() (several), file ranges with sendfile() or, with --no-sendfile, pread()
// into a buffer and send(). Shared by the readiness loop and the blocking per-connection driver,
// which differ only in how they wait for writability (and in whether a disk read may block).

#include "http/session.hpp"

namespace c10k::engine {

/// How file ranges are sent.
struct FileOutput {
    /// sendfile(2) (zero-copy); false reads into a buffer and sends that (--no-sendfile).
    bool use_sendfile = true;
    /// Event loops with disk helpers: never read a page that is not in the page cache. The
    /// range that would have to come from disk is reported instead (write_output's `uncached`).
    bool check_cache = false;
};

/// Writes as much of the session's output as the socket takes now. Sets `blocked` when the
/// socket buffer is full (wait for writability before calling again). Returns false when the
/// connection must be closed: a write error, or a file that shrank under us (framing lost).
/// With `how.check_cache`, stops at a file range whose next bytes are not in memory and sets
/// `uncached` to it (length 0 otherwise): read it into the page cache, then call again with
/// `trusted` pointing at the number of bytes that read brought in: they are sent without a
/// check (a page evicted again at once must not send the connection round the helpers
/// forever), the bytes after them are checked again, and `*trusted` is left at what is still
/// unsent of them.
bool write_output(int fd, http::Session& session, bool& blocked, const FileOutput& how = {},
                  http::FileRange* uncached = nullptr, std::uint64_t* trusted = nullptr);

}  // namespace c10k::engine
