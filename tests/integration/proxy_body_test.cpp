// Request and response bodies through `c10k proxy` (the real binary): a 1 GiB upload and a
// 1 GiB download with the proxy's memory flat, chunked uploads re-chunked, 100-continue
// answered by the proxy, and retries that resend a body only while the proxy still holds all
// of it.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "support/admin_scrape.hpp"
#include "support/connect.hpp"
#include "support/http_client.hpp"
#include "support/mock_backend.hpp"
#include "support/proxy_fixture.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
/// What the proxy's peak memory may grow by while a gigabyte goes through it: its buffers are
/// a few hundred KiB; a body held whole would be 1024 MiB.
constexpr std::uint64_t kFlatKiB = 48 * 1024;

/// A blocking connection to 127.0.0.1:port with a receive timeout, for bodies too large for
/// HttpClient's buffers.
int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect_through_signals(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    timeval timeout{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    return fd;
}

bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Sends `method` `target` with a body of `total` bytes ('u' repeated), in Content-Length
/// framing or in chunks, and returns the status line's code (0 when none came).
int upload(int port, const std::string& target, std::uint64_t total, bool chunked,
           const std::string& method = "POST") {
    int fd = connect_to(port);
    if (fd < 0) return 0;
    std::string head = method + " " + target + " HTTP/1.1\r\nHost: test\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                    : "Content-Length: " + std::to_string(total) + "\r\n\r\n";
    bool ok = send_all(fd, head);
    const std::string piece(1 << 20, 'u');
    char line[32];
    std::snprintf(line, sizeof line, "%zx\r\n", piece.size());
    for (std::uint64_t sent = 0; ok && sent < total; sent += piece.size()) {
        std::string_view part(piece.data(), std::min<std::uint64_t>(piece.size(), total - sent));
        if (chunked) ok = send_all(fd, line);  // every piece is whole: total is a multiple
        ok = ok && send_all(fd, part);
        if (chunked) ok = ok && send_all(fd, "\r\n");
    }
    if (ok && chunked) ok = send_all(fd, "0\r\n\r\n");
    if (!ok) std::fprintf(stderr, "upload: send failed: %s\n", std::strerror(errno));
    std::string answer;
    char buffer[4096];
    while (ok && answer.find("\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;  // the test's SIGCHLD handler
        if (n <= 0) {
            std::fprintf(stderr, "upload: recv %zd: %s\n", n, std::strerror(errno));
            break;
        }
        answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (answer.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(answer.substr(9, 3));
}

/// GETs `target` and reads the whole body, counting it: returns the body's size, or 0 when
/// the answer was not a 200 with a length.
std::uint64_t download(int port, const std::string& target) {
    int fd = connect_to(port);
    if (fd < 0) return 0;
    if (!send_all(fd, "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n")) {
        ::close(fd);
        return 0;
    }
    std::string head;
    std::vector<char> buffer(1 << 20);
    std::uint64_t body = 0;
    std::uint64_t length = 0;
    for (;;) {
        ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR) continue;  // the test's SIGCHLD handler
        if (n <= 0) break;
        if (length == 0) {
            head.append(buffer.data(), static_cast<std::size_t>(n));
            std::size_t end = head.find("\r\n\r\n");
            if (end == std::string::npos) continue;
            std::size_t at = head.find("Content-Length: ");
            if (head.rfind("HTTP/1.1 200", 0) != 0 || at == std::string::npos) break;
            length = std::stoull(head.substr(at + 16));
            body = head.size() - end - 4;
        } else {
            body += static_cast<std::uint64_t>(n);
        }
        if (body >= length) break;
    }
    ::close(fd);
    return body;
}

double metric(int admin, const std::string& name) {
    auto samples = scrape(admin);
    auto it = samples.find(name);
    return it == samples.end() ? -1 : it->second;
}

TEST(ProxyBodyMemory, GibibyteUploadStreamsThrough) {
    TempDir root;
    ServerProcess backend({"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads",
                           "1", "--max-body-bytes", std::to_string(2 * kGiB), "--admin-listen",
                           "127.0.0.1:0"});
    int admin = admin_port(backend);
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(backend.port())},
                             {"--max-body-bytes", std::to_string(2 * kGiB)});
    std::uint64_t before = peak_rss_kib(proxy->pid());
    // The static server reads the whole body, then refuses the method: its answer, passed on,
    // shows the body reached its end.
    EXPECT_EQ(upload(proxy->port(), "/sink", kGiB, false), 405);
    EXPECT_GE(metric(admin, "c10k_received_bytes_total"), static_cast<double>(kGiB));
    std::uint64_t after = peak_rss_kib(proxy->pid());
    EXPECT_LT(after, before + kFlatKiB) << "peak RSS went from " << before << " KiB to " << after;
}

TEST(ProxyBodyMemory, ChunkedUploadIsSentOnInChunks) {
    TempDir root;
    ServerProcess backend({"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads",
                           "1", "--max-body-bytes", std::to_string(kGiB), "--admin-listen",
                           "127.0.0.1:0"});
    int admin = admin_port(backend);
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(backend.port())},
                             {"--max-body-bytes", std::to_string(kGiB)});
    std::uint64_t before = peak_rss_kib(proxy->pid());
    const std::uint64_t size = 256ull << 20;
    EXPECT_EQ(upload(proxy->port(), "/sink", size, true), 405);
    EXPECT_GE(metric(admin, "c10k_received_bytes_total"), static_cast<double>(size));
    EXPECT_LT(peak_rss_kib(proxy->pid()), before + kFlatKiB);
}

TEST(ProxyBodyMemory, GibibyteDownloadStreamsThrough) {
    TempDir root;
    {
        // Sparse: a gigabyte of zeros that costs the disk nothing.
        std::string path = root.write("big.bin", "");
        ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kGiB)), 0);
    }
    ServerProcess backend(
        {"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(backend.port())});
    std::uint64_t before = peak_rss_kib(proxy->pid());
    EXPECT_EQ(download(proxy->port(), "/big.bin"), kGiB);
    std::uint64_t after = peak_rss_kib(proxy->pid());
    EXPECT_LT(after, before + kFlatKiB) << "peak RSS went from " << before << " KiB to " << after;
}

TEST(ProxyBody, BodyLargerThanTheLimitIs413) {
    // The backend reads whole bodies before it answers: what the client gets is the proxy's
    // answer, at the head for a Content-Length and once the chunks pass the limit otherwise.
    TempDir root;
    ServerProcess backend(
        {"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(backend.port())},
                             {"--max-body-bytes", "1000"});
    EXPECT_EQ(upload(proxy->port(), "/big", 1 << 20, false), 413);
    EXPECT_EQ(upload(proxy->port(), "/big", 1 << 20, true), 413);
    EXPECT_EQ(upload(proxy->port(), "/small", 1000, false), 405) << "at the limit is fine";
}

TEST(ProxyBody, ExpectContinueIsAnsweredByTheProxyAndNotForwarded) {
    MockBackend backend([](const ReceivedRequest& request) {
        return Reply{ok_response("got " + std::to_string(request.body.size()))};
    });
    auto proxy = start_proxy({backend.address()});
    HttpClient client(proxy->port());
    client.send("PUT /doc HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    // HttpClient skips interim answers: the 100 is read raw, before any body is sent.
    const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
    std::string got;
    pollfd wait{client.fd(), POLLIN, 0};
    while (got.size() < interim.size() && ::poll(&wait, 1, 5000) == 1) {
        char buffer[64];
        ssize_t n = ::recv(client.fd(), buffer, interim.size() - got.size(), 0);
        if (n <= 0) break;
        got.append(buffer, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(got, interim);
    client.send("hello");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "got 5");
    auto requests = backend.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].body, "hello");
    EXPECT_EQ(requests[0].head.find("Expect"), std::string::npos) << requests[0].head;
}

TEST(ProxyBody, ChunkedBodyIsReChunkedAndTheConnectionsStayInStep) {
    // The backend reads the chunked body and answers 405 after it; the same client connection
    // then asks for a file, which works only if both hops agreed where the body ended (the
    // backend connection is kept alive and reused for it).
    TempDir root;
    root.write("id.txt", "after");
    ServerProcess backend(
        {"serve", "--root", root.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    auto proxy = start_proxy({"127.0.0.1:" + std::to_string(backend.port())});
    HttpClient client(proxy->port());
    client.send(
        "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: dropped\r\n\r\n");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 405);
    client.send_get("/id.txt");
    ASSERT_TRUE(client.read_response(response)) << client.error();
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "after");
}

TEST(ProxyBody, HeldBodyIsResentToTheNextServerAfterAFailure) {
    // A PUT (idempotent) whose body fits in --client-buffer: the first server resets after
    // reading it, and the second gets the same body whole.
    MockBackend broken([](const ReceivedRequest&) { return Reply{"", Reply::Then::reset}; });
    MockBackend fine([](const ReceivedRequest& request) {
        return Reply{ok_response("stored " + std::to_string(request.body.size()))};
    });
    auto proxy = start_proxy({broken.address(), fine.address()}, {"--balance", "round-robin"});
    std::string body(100 * 1024, 'b');
    for (int i = 0; i < 2; ++i) {
        HttpClient client(proxy->port());
        client.send("PUT /doc HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n");
        client.send(body);
        HttpResponse response;
        ASSERT_TRUE(client.read_response(response)) << client.error();
        EXPECT_EQ(response.status, 200);
        EXPECT_EQ(response.body, "stored 102400");
    }
    ASSERT_GE(broken.requests().size(), 1u) << "one attempt met the broken server";
    for (const auto& request : broken.requests()) EXPECT_EQ(request.body, body);
    for (const auto& request : fine.requests()) EXPECT_EQ(request.body, body);
}

TEST(ProxyBody, BodyLargerThanTheBufferIsNeverResent) {
    // Past --client-buffer the proxy let go of the bytes the server took: after that server
    // fails, nothing can send the body again, so even a PUT gets 502, and the other server
    // never sees a part of it.
    MockBackend broken([](const ReceivedRequest&) { return Reply{"", Reply::Then::reset}; });
    MockBackend fine([](const ReceivedRequest&) { return Reply{ok_response("stored")}; });
    auto proxy = start_proxy({broken.address(), fine.address()},
                             {"--balance", "round-robin", "--client-buffer", "65536",
                              "--max-body-bytes", "8388608"});
    const std::uint64_t size = 4 << 20;
    int failed = 0;
    int stored = 0;
    std::string statuses;
    for (int i = 0; i < 2; ++i) {
        int status = upload(proxy->port(), "/doc", size, false, "PUT");
        statuses += std::to_string(status) + " ";
        if (status == 502) ++failed;
        if (status == 200) ++stored;
    }
    EXPECT_EQ(failed, 1) << "the attempt on the broken server; statuses: " << statuses;
    EXPECT_EQ(stored, 1);
    for (const auto& request : fine.requests()) EXPECT_EQ(request.body.size(), size);
}

}  // namespace
}  // namespace c10k::test
