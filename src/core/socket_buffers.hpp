#pragma once
// SO_SNDBUF / SO_RCVBUF asked for by `c10k serve --sndbuf/--rcvbuf` and `c10k bench
// --sndbuf/--rcvbuf`: the kernel memory each connection may hold in its send and receive
// queues, which at hundreds of thousands of connections is most of the kernel's memory.
//
// Linux doubles the value set (the other half is its bookkeeping) and clamps what is asked to
// net.core.wmem_max / net.core.rmem_max, silently. A setting that stays unset leaves the socket
// as the kernel makes it: autotuning from net.ipv4.tcp_wmem / tcp_rmem, which a fixed size
// turns off for that socket.

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace c10k::core {

/// The sizes asked for, in bytes; 0 leaves that buffer at the kernel's default.
struct SocketBuffers {
    int send_bytes = 0;     ///< SO_SNDBUF
    int receive_bytes = 0;  ///< SO_RCVBUF

    bool empty() const { return send_bytes == 0 && receive_bytes == 0; }
};

/// The largest size taken: the kernel keeps int-sized doubled values, and no sane buffer per
/// socket is near this.
inline constexpr int kMaxSocketBufferBytes = 1 << 30;

/// Parses a buffer size: bytes ("65536"), or k/K (x1024) or m/M (x1048576) after the number
/// ("64k", "4M"). At least 1 byte, at most 1 GiB. On failure returns false and sets `error` to
/// a sentence saying what is wrong and what to write instead (without the flag's name).
bool parse_buffer_size(std::string_view text, int& bytes, std::string& error);

/// Sets the sizes that are not 0 on `fd`. On a listening socket, before listen(): the sockets
/// it accepts inherit both, and the window scale it offers in a SYN-ACK follows SO_RCVBUF.
Result<void> apply_socket_buffers(int fd, const SocketBuffers& buffers);

/// Reads the sizes back from `fd` (on which apply_socket_buffers set `buffers`) and, for each
/// that the kernel clamped below what was asked, one sentence naming the sysctl to raise;
/// empty when the kernel gave what was asked. For a warning at start: not a failure, since
/// the socket works with the smaller buffer.
std::string socket_buffer_shortfall(int fd, const SocketBuffers& buffers);

}  // namespace c10k::core
