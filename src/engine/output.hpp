#pragma once
// Sending a Session's queued output on a non-blocking socket: in-memory chunks with send() (one
// buffer) or writev() (several), file ranges with sendfile(). Shared by the readiness loop and
// the blocking per-connection driver, which differ only in how they wait for writability.

#include "http/session.hpp"

namespace c10k::engine {

/// Writes as much of the session's output as the socket takes now. Sets `blocked` when the
/// socket buffer is full (wait for writability before calling again). Returns false when the
/// connection must be closed: a write error, or a file that shrank under us (framing lost).
bool write_output(int fd, http::Session& session, bool& blocked);

}  // namespace c10k::engine
