#pragma once
// The socket every bench connection starts from (ClientLoop, PushLoop, WsEchoLoop), so that
// what is set on a client socket before connect() is set in one place.

#include "core/socket_buffers.hpp"

namespace c10k::bench {

/// A non-blocking, close-on-exec TCP socket of `family` with Nagle off (requests are written
/// whole) and `buffers` set (--sndbuf / --rcvbuf; zeros leave the kernel's defaults). Set
/// before connect(), so that SO_RCVBUF also decides the window scale the SYN offers. Returns
/// the descriptor, or -1 with errno set (nothing left open).
int open_client_socket(int family, const core::SocketBuffers& buffers);

}  // namespace c10k::bench
