// Buffer sizes as --sndbuf/--rcvbuf take them, and what the kernel makes of a size set on a
// real socket: the doubled value it reports, and the warning when net.core.*mem_max caps it.

#include "core/socket_buffers.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/unique_fd.hpp"

namespace c10k::core {
namespace {

int reported(int fd, int option) {
    int value = 0;
    socklen_t length = sizeof value;
    EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, option, &value, &length), 0);
    return value;
}

TEST(ParseBufferSize, TakesBytesAndKOrMSuffixes) {
    struct Case {
        const char* text;
        int bytes;
    };
    for (const Case& c :
         {Case{"65536", 65536}, Case{"1", 1}, Case{"64k", 65536}, Case{"64K", 65536},
          Case{"4m", 4 << 20}, Case{"4M", 4 << 20}, Case{"1024m", 1 << 30}}) {
        int bytes = 0;
        std::string error;
        EXPECT_TRUE(parse_buffer_size(c.text, bytes, error)) << c.text << ": " << error;
        EXPECT_EQ(bytes, c.bytes) << c.text;
    }
}

TEST(ParseBufferSize, RefusesZeroNegativeGarbageAndHugeWithAHint) {
    struct Case {
        const char* text;
        const char* expected;
    };
    for (const Case& c :
         {Case{"0", "above 0"}, Case{"0k", "above 0"}, Case{"-4096", "above 0"},
          Case{"", "not a size"}, Case{"lots", "not a size"}, Case{"8kb", "not a size"},
          Case{"1.5k", "not a size"}, Case{"k", "not a size"}, Case{"16 k", "not a size"},
          Case{"2g", "not a size"}, Case{"1025m", "above the 1 GiB"},
          Case{"99999999999999999999", "above the 1 GiB"}}) {
        int bytes = 7;
        std::string error;
        EXPECT_FALSE(parse_buffer_size(c.text, bytes, error)) << c.text;
        EXPECT_NE(error.find(c.expected), std::string::npos) << c.text << ": " << error;
        // Every refusal says what to write instead.
        EXPECT_NE(error.find("e.g. 65536, 64k or 4m"), std::string::npos) << error;
        EXPECT_EQ(bytes, 7) << c.text;
    }
}

TEST(SocketBuffers, TheKernelReportsTwiceTheSizeSetAndNothingIsCapped) {
    unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd);
    SocketBuffers buffers{8192, 12288};
    ASSERT_TRUE(apply_socket_buffers(fd.get(), buffers));
    EXPECT_EQ(reported(fd.get(), SO_SNDBUF), 2 * 8192);
    EXPECT_EQ(reported(fd.get(), SO_RCVBUF), 2 * 12288);
    EXPECT_EQ(socket_buffer_shortfall(fd.get(), buffers), "");
}

TEST(SocketBuffers, ZerosLeaveTheKernelsDefaults) {
    unique_fd plain(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    unique_fd untouched(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(plain && untouched);
    ASSERT_TRUE(apply_socket_buffers(untouched.get(), SocketBuffers{}));
    EXPECT_EQ(reported(untouched.get(), SO_SNDBUF), reported(plain.get(), SO_SNDBUF));
    EXPECT_EQ(reported(untouched.get(), SO_RCVBUF), reported(plain.get(), SO_RCVBUF));
}

TEST(SocketBuffers, ASizeAboveTheCapGetsAWarningNamingTheSysctl) {
    // The caps as this machine has them: one byte more than each is clamped, whatever they are.
    auto cap = [](const char* path) {
        long value = 0;
        std::ifstream(path) >> value;
        return value;
    };
    long wmem_max = cap("/proc/sys/net/core/wmem_max");
    long rmem_max = cap("/proc/sys/net/core/rmem_max");
    ASSERT_GT(wmem_max, 0);
    ASSERT_GT(rmem_max, 0);
    ASSERT_LT(wmem_max, kMaxSocketBufferBytes) << "net.core.wmem_max is above what this tests";
    ASSERT_LT(rmem_max, kMaxSocketBufferBytes) << "net.core.rmem_max is above what this tests";
    unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd);
    SocketBuffers receive_only{0, static_cast<int>(rmem_max + 1)};
    ASSERT_TRUE(apply_socket_buffers(fd.get(), receive_only));
    std::string warning = socket_buffer_shortfall(fd.get(), receive_only);
    EXPECT_NE(warning.find("SO_RCVBUF"), std::string::npos) << warning;
    EXPECT_NE(warning.find("sysctl -w net.core.rmem_max=" + std::to_string(rmem_max + 1)),
              std::string::npos)
        << warning;
    EXPECT_EQ(warning.find("wmem_max"), std::string::npos) << warning;

    SocketBuffers both{static_cast<int>(wmem_max + 1), static_cast<int>(rmem_max + 1)};
    ASSERT_TRUE(apply_socket_buffers(fd.get(), both));
    warning = socket_buffer_shortfall(fd.get(), both);
    EXPECT_NE(warning.find("net.core.wmem_max"), std::string::npos) << warning;
    EXPECT_NE(warning.find("net.core.rmem_max"), std::string::npos) << warning;
}

}  // namespace
}  // namespace c10k::core
