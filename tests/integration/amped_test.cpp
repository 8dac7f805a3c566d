// Disk helpers (docs/AMPED.md) and the caching switches, end to end: files that are not in the
// page cache are served byte for byte through the helpers, a file truncated under a response
// closes that connection and nothing else, --no-sendfile and --no-cache send the same bytes, and
// a stop with helper reads in flight is clean.

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "support/admin_scrape.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937_64 generator(seed);
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i + 8 <= size; i += 8) {
        std::uint64_t word = generator();
        std::memcpy(bytes.data() + i, &word, 8);
    }
    return bytes;
}

/// Writes the file to disk and drops it from the page cache, so that serving it must read the
/// disk: written back first (dirty pages cannot be dropped), then POSIX_FADV_DONTNEED.
void evict(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::fsync(fd), 0);
    ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    // The first page must really be gone, or the test would prove nothing about helpers.
    long page = ::sysconf(_SC_PAGESIZE);
    void* map = ::mmap(nullptr, static_cast<std::size_t>(page), PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_NE(map, MAP_FAILED);
    unsigned char resident = 0;
    ASSERT_EQ(::mincore(map, static_cast<std::size_t>(page), &resident), 0);
    ::munmap(map, static_cast<std::size_t>(page));
    ::close(fd);
    ASSERT_EQ(resident & 1, 0) << path << " stays in memory after POSIX_FADV_DONTNEED: its file "
                               << "system (tmpfs?) cannot show an uncached read";
}

double helper_reads(int admin) {
    return scrape(admin)["c10k_disk_helper_reads_total"];
}

std::vector<std::string> serve_args(const std::string& root, const std::string& engine,
                                    const std::vector<std::string>& extra) {
    std::vector<std::string> args{"serve",    "--engine",    engine,           "--root",     root,
                                  "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(extra.begin(), extra.end(), "--threads") == extra.end()) {
        args.insert(args.end(), {"--threads", "1"});
    }
    return args;
}

// --- uncached files go through the helpers -----------------------------------------------

struct HelperCase {
    std::string engine;
    std::vector<std::string> flags;
};

class DiskHelpersServe : public ::testing::TestWithParam<HelperCase> {};

TEST_P(DiskHelpersServe, UncachedLargeFileIsServedExactlyThroughHelpers) {
    TempDir root;
    std::string contents = random_bytes(6 * 1024 * 1024 + 123, 7);
    std::string path = root.write("big.bin", contents);
    evict(path);
    ServerProcess server(serve_args(root.path(), GetParam().engine, GetParam().flags));
    int admin = admin_port(server);
    HttpResponse r = fetch(server.port(), "/big.bin");
    ASSERT_EQ(r.status, 200) << server.output();
    EXPECT_EQ(r.body.size(), contents.size());
    EXPECT_TRUE(r.body == contents) << "body differs from the file";
    EXPECT_GE(helper_reads(admin), 1) << "no helper read: was the file still cached?";
    EXPECT_EQ(scrape(admin)["c10k_disk_helper_failures_total"], 0);

    // A range of an uncached file, again through the helpers.
    evict(path);
    r = fetch(server.port(), "/big.bin", "Range: bytes=1000000-3999999\r\n");
    ASSERT_EQ(r.status, 206);
    EXPECT_TRUE(r.body == contents.substr(1000000, 3000000)) << "range differs from the file";
}

TEST_P(DiskHelpersServe, NoHelpersServesTheSameBytesWithoutThem) {
    TempDir root;
    std::string contents = random_bytes(3 * 1024 * 1024 + 5, 8);
    std::string path = root.write("big.bin", contents);
    evict(path);
    std::vector<std::string> flags = GetParam().flags;
    flags.push_back("--no-helpers");
    ServerProcess server(serve_args(root.path(), GetParam().engine, flags));
    int admin = admin_port(server);
    HttpResponse r = fetch(server.port(), "/big.bin");
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == contents);
    EXPECT_EQ(helper_reads(admin), 0);
}

std::vector<HelperCase> helper_cases() {
    std::vector<HelperCase> cases;
    std::vector<std::string> here = engine::available();
    for (const char* engine : {"epoll", "epoll-lt", "poll", "select", "sigio"}) {
        if (std::find(here.begin(), here.end(), engine) != here.end()) {
            cases.push_back({engine, {}});
        }
    }
    cases.push_back({"epoll", {"--no-sendfile"}});
    cases.push_back({"poll", {"--no-sendfile", "--no-cache"}});
    return cases;
}

std::string helper_case_name(const ::testing::TestParamInfo<HelperCase>& info) {
    std::string name = info.param.engine;
    for (const auto& flag : info.param.flags) name += flag;
    for (char& c : name) {
        if (c == '-') c = '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(ReadinessEngines, DiskHelpersServe, ::testing::ValuesIn(helper_cases()),
                         helper_case_name);

// --- a file truncated under a response ----------------------------------------------------

/// Reads from `fd` until the peer closes (or nothing comes for 10 s); returns what came.
std::string read_until_closed(int fd, std::string got) {
    char buffer[64 * 1024];
    for (;;) {
        pollfd wait{fd, POLLIN, 0};
        if (::poll(&wait, 1, 10000) <= 0) return got;
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return got;
        got.append(buffer, static_cast<std::size_t>(n));
    }
}

class TruncatedFile : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(TruncatedFile, ClosesTheConnectionAndKeepsServing) {
    TempDir root;
    const std::size_t size = 48u * 1024 * 1024;
    std::string contents = random_bytes(size, 9);
    std::string path = root.write("big.bin", contents);
    root.write("small.txt", "still here\n");
    evict(path);
    ServerProcess server(serve_args(root.path(), "epoll", GetParam()));
    HttpClient client(server.port());
    client.send_get("/big.bin");
    // Take the head (and whatever came with it), then stop reading: the socket buffers fill
    // and the rest of the body waits in the file.
    std::string got;
    char buffer[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
        pollfd wait{client.fd(), POLLIN, 0};
        ASSERT_GT(::poll(&wait, 1, 10000), 0) << "no head";
        ssize_t n = ::recv(client.fd(), buffer, sizeof buffer, 0);
        ASSERT_GT(n, 0);
        got.append(buffer, static_cast<std::size_t>(n));
    }
    ASSERT_EQ(got.rfind("HTTP/1.1 200", 0), 0u);
    ASSERT_EQ(::truncate(path.c_str(), 1024 * 1024), 0);
    got = read_until_closed(client.fd(), std::move(got));
    std::size_t body_at = got.find("\r\n\r\n") + 4;
    std::string body = got.substr(body_at);
    // Closed short of the announced length, and what came is the file's own bytes.
    EXPECT_LT(body.size(), size);
    EXPECT_TRUE(contents.compare(0, body.size(), body) == 0) << "wrong bytes before the close";
    EXPECT_TRUE(client.wait_closed());

    HttpResponse r = fetch(server.port(), "/small.txt");
    EXPECT_EQ(r.status, 200) << server.output();
    EXPECT_EQ(r.body, "still here\n");
    EXPECT_TRUE(server.running());
}

INSTANTIATE_TEST_SUITE_P(Modes, TruncatedFile,
                         ::testing::Values(std::vector<std::string>{},
                                           std::vector<std::string>{"--no-sendfile"},
                                           std::vector<std::string>{"--no-helpers"}),
                         [](const ::testing::TestParamInfo<std::vector<std::string>>& info) {
                             return info.param.empty() ? std::string("helpers_sendfile")
                                    : info.param[0] == "--no-sendfile" ? std::string("helpers_copy")
                                                                       : std::string("no_helpers");
                         });

// --- the caching switches -----------------------------------------------------------------

class CachingSwitches : public ::testing::TestWithParam<std::string> {};

TEST_P(CachingSwitches, EveryCombinationSendsTheSameBytes) {
    TempDir root;
    std::vector<std::pair<std::string, std::string>> files = {
        {"/empty.txt", ""},
        {"/small.html", random_bytes(1000, 1)},
        {"/medium.bin", random_bytes(100 * 1024 + 3, 2)},
        {"/large.bin", random_bytes(3 * 1024 * 1024 + 11, 3)},
    };
    for (const auto& [name, bytes] : files) root.write(name.substr(1), bytes);
    for (const std::vector<std::string>& switches : {std::vector<std::string>{},
                                                     {"--no-sendfile"},
                                                     {"--no-cache"},
                                                     {"--no-sendfile", "--no-cache"}}) {
        std::vector<std::string> args{"serve",    "--engine",    GetParam(),  "--root", root.path(),
                                      "--listen", "127.0.0.1:0", "--threads", "1"};
        args.insert(args.end(), switches.begin(), switches.end());
        ServerProcess server(args);
        for (int round = 0; round < 2; ++round) {  // the second round may come from the cache
            for (const auto& [name, bytes] : files) {
                HttpResponse r = fetch(server.port(), name);
                ASSERT_EQ(r.status, 200) << name << " " << server.output();
                EXPECT_TRUE(r.body == bytes) << name << " differs with " << args.back();
            }
        }
        HttpResponse r = fetch(server.port(), "/large.bin", "Range: bytes=70000-2000000\r\n");
        ASSERT_EQ(r.status, 206);
        EXPECT_TRUE(r.body == files[3].second.substr(70000, 2000000 - 70000 + 1));
        EXPECT_EQ(server.stop(), 0);
    }
}

TEST_P(CachingSwitches, UncachedFilesAreServedExactlyEitherWay) {
    // Every engine reads a file that is not in memory its own way (helpers, a blocked thread,
    // io_uring's own workers): the bytes are the same.
    TempDir root;
    std::string contents = random_bytes(5 * 1024 * 1024 + 17, 4);
    std::string path = root.write("big.bin", contents);
    for (const std::vector<std::string>& switches :
         {std::vector<std::string>{}, {"--no-sendfile"}}) {
        evict(path);
        std::vector<std::string> args{"serve",    "--engine",    GetParam(),  "--root", root.path(),
                                      "--listen", "127.0.0.1:0", "--threads", "1"};
        args.insert(args.end(), switches.begin(), switches.end());
        ServerProcess server(args);
        HttpResponse r = fetch(server.port(), "/big.bin");
        ASSERT_EQ(r.status, 200) << server.output();
        EXPECT_TRUE(r.body == contents) << GetParam() << " " << args.back();
        EXPECT_EQ(server.stop(), 0);
    }
}

std::vector<std::string> switch_engines() {
    std::vector<std::string> engines;
    std::vector<std::string> here = engine::available();
    for (const char* name : {"epoll", "select", "thread", "uring"}) {
        if (std::find(here.begin(), here.end(), name) != here.end()) engines.push_back(name);
    }
    return engines;
}

INSTANTIATE_TEST_SUITE_P(Engines, CachingSwitches, ::testing::ValuesIn(switch_engines()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

// --- a stop with helper reads in flight ---------------------------------------------------

TEST(DiskHelpersStop, StopWithHelperReadsInFlightIsClean) {
    TempDir root;
    constexpr int kClients = 6;
    std::vector<std::string> contents;
    for (int i = 0; i < kClients; ++i) {
        contents.push_back(random_bytes(8 * 1024 * 1024 + i, 20 + i));
        evict(root.write("f" + std::to_string(i), contents.back()));
    }
    ServerProcess server(serve_args(root.path(), "epoll", {"--threads", "2"}));
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<HttpClient>(server.port()));
        clients.back()->send_get("/f" + std::to_string(i));
    }
    // Each response has begun (its head is on the way: the connection was accepted and the
    // request read), and its body is still to be read from disk.
    for (auto& client : clients) {
        pollfd wait{client->fd(), POLLIN, 0};
        ASSERT_EQ(::poll(&wait, 1, 10000), 1) << "no response began";
    }
    // The stop comes while the bodies are still being read from disk; the server finishes
    // them (well within the grace period), then exits.
    ::kill(server.pid(), SIGTERM);
    std::vector<std::thread> readers;
    std::vector<std::string> bodies(kClients);
    std::vector<int> statuses(kClients, 0);
    for (int i = 0; i < kClients; ++i) {
        readers.emplace_back([&, i] {
            HttpResponse r;
            if (clients[i]->read_response(r, 20000)) {
                statuses[i] = r.status;
                bodies[i] = std::move(r.body);
            }
        });
    }
    for (auto& reader : readers) reader.join();
    for (int i = 0; i < kClients; ++i) {
        EXPECT_EQ(statuses[i], 200) << "client " << i;
        EXPECT_TRUE(bodies[i] == contents[i]) << "client " << i;
    }
    EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace c10k::test
