#include "core/socket_buffers.hpp"

#include <sys/socket.h>

#include <charconv>
#include <cstdint>

#include <fmt/core.h>

namespace c10k::core {

namespace {

constexpr const char* kSizeHint = "give a size in bytes above 0, e.g. 65536, 64k or 4m";

/// What the kernel reports for `option` on `fd`: twice the size in effect. -1 when unreadable.
int read_back(int fd, int option) {
    int value = 0;
    socklen_t length = sizeof value;
    if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) return -1;
    return value;
}

/// One sentence for a buffer the kernel clamped, or nothing.
std::string shortfall(int fd, int option, int asked, const char* name, const char* sysctl) {
    if (asked <= 0) return {};
    int reported = read_back(fd, option);
    if (reported < 0 || reported / 2 >= asked) return {};
    return fmt::format(
        "{} of {} bytes asked for, the kernel gave {} ({} caps it): raise it, e.g. sysctl -w "
        "{}={}",
        name, asked, reported / 2, sysctl, sysctl, asked);
}

}  // namespace

bool parse_buffer_size(std::string_view text, int& bytes, std::string& error) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    auto [rest, status] = std::from_chars(text.data(), end, value);
    if (status != std::errc() && status != std::errc::result_out_of_range) rest = text.data();
    std::int64_t unit = 1;
    if (rest != text.data() && rest + 1 == end) {
        if (*rest == 'k' || *rest == 'K') unit = 1024;
        if (*rest == 'm' || *rest == 'M') unit = 1024 * 1024;
        if (unit != 1) ++rest;
    }
    if (rest == text.data() || rest != end) {
        error = fmt::format("'{}' is not a size: {}", text, kSizeHint);
        return false;
    }
    if (status == std::errc::result_out_of_range || value > kMaxSocketBufferBytes / unit) {
        error = fmt::format("'{}' is above the 1 GiB this takes: {}", text, kSizeHint);
        return false;
    }
    if (value <= 0) {
        error =
            fmt::format("'{}': {} (leave the flag out for the kernel's default)", text, kSizeHint);
        return false;
    }
    bytes = static_cast<int>(value * unit);
    return true;
}

Result<void> apply_socket_buffers(int fd, const SocketBuffers& buffers) {
    if (buffers.send_bytes > 0 && ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffers.send_bytes,
                                               sizeof buffers.send_bytes) != 0) {
        return last_errno();
    }
    if (buffers.receive_bytes > 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffers.receive_bytes,
                                                  sizeof buffers.receive_bytes) != 0) {
        return last_errno();
    }
    return {};
}

std::string socket_buffer_shortfall(int fd, const SocketBuffers& buffers) {
    std::string send =
        shortfall(fd, SO_SNDBUF, buffers.send_bytes, "SO_SNDBUF", "net.core.wmem_max");
    std::string receive =
        shortfall(fd, SO_RCVBUF, buffers.receive_bytes, "SO_RCVBUF", "net.core.rmem_max");
    if (send.empty()) return receive;
    if (receive.empty()) return send;
    return send + "; " + receive;
}

}  // namespace c10k::core
