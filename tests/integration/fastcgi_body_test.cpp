// Request bodies to FastCGI (`c10k serve --fastcgi`), end to end with a real php-fpm: bodies
// with a Content-Length and chunked ones on every engine, PHP seeing each whole (its length and
// SHA-1 as PHP computes them); a chunked body larger than the part held in memory, spilled to an
// unnamed file while the server's memory stays flat and php-fpm waits; a chunked body past
// --max-body-bytes, refused before php-fpm hears of it; and --fastcgi-temp-dir's checks.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "support/http_client.hpp"
#include "support/php_fpm.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace c10k::test {
namespace {

/// Bytes of every value, CR and LF among them, the same on every run.
std::string test_body(std::size_t size) {
    std::string body(size, '\0');
    std::uint32_t state = 12345;
    for (char& c : body) {
        state = state * 1664525u + 1013904223u;
        c = static_cast<char>(state >> 24);
    }
    return body;
}

std::string sha1_hex(std::string_view data) {
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : ws_sha1(data)) {
        hex.push_back(digits[c >> 4]);
        hex.push_back(digits[c & 15]);
    }
    return hex;
}

/// `body` in chunks of `piece` bytes (the last may be shorter), without the last chunk: the
/// caller sends "0\r\n\r\n" when the body is to end.
std::string chunks(std::string_view body, std::size_t piece) {
    std::string out;
    char line[32];
    for (std::size_t at = 0; at < body.size(); at += piece) {
        std::string_view part = body.substr(at, piece);
        std::snprintf(line, sizeof line, "%zx\r\n", part.size());
        out += line;
        out += part;
        out += "\r\n";
    }
    return out;
}

constexpr std::string_view kLastChunk = "0\r\n\r\n";

HttpResponse post(HttpClient& client, const std::string& target, const std::string& type,
                  const std::string& body, bool chunked) {
    client.send("POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Type: " + type + "\r\n" +
                (chunked ? std::string("Transfer-Encoding: chunked\r\n")
                         : "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                "\r\n");
    if (chunked) {
        client.send(chunks(body, 10000));  // not a power of two: chunks straddle every read
        client.send(kLastChunk);
    } else {
        client.send(body);
    }
    HttpResponse response;
    EXPECT_TRUE(client.read_response(response, 60000)) << client.error();
    return response;
}

/// size.php's answer for `body`: "LENGTH SHA1\n".
std::string size_and_hash(const std::string& body) {
    return std::to_string(body.size()) + " " + sha1_hex(body) + "\n";
}

void write_scripts(const PhpSite& site) {
    site.root.write(
        "form.php",
        "<?php echo 'b=', $_POST['b'] ?? '-', ' input=', file_get_contents('php://input'),"
        " ' length=', $_SERVER['CONTENT_LENGTH'] ?? '-', \"\\n\";\n");
    site.root.write("size.php",
                    "<?php $in = file_get_contents('php://input');\n"
                    "echo strlen($in), ' ', sha1($in), \"\\n\";\n");
}

/// Bodies on every engine: the body's reading (paused, resumed, held) goes through the
/// Session, whichever engine drives it.
class FastcgiBodyOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(FastcgiBodyOnEveryEngine, PostsWithALengthAndInChunksReachPhpWhole) {
    PhpSite site({"--engine", GetParam(), "--max-body-bytes", "8388608"});
    write_scripts(site);
    HttpClient client(site.port());  // one kept-alive connection throughout
    const std::string form_type = "application/x-www-form-urlencoded";
    HttpResponse r = post(client, "/form.php", form_type, "a=1&b=two", false);
    EXPECT_EQ(r.status, 200) << site.fpm.log();
    EXPECT_EQ(r.body, "b=two input=a=1&b=two length=9\n");
    // Chunked, the length is told all the same: PHP parses $_POST and reads php://input by it.
    r = post(client, "/form.php", form_type, "a=1&b=two", true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "b=two input=a=1&b=two length=9\n");
    r = post(client, "/size.php", "application/octet-stream", "", true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, size_and_hash(""));
    // Larger than the server's buffer (streamed with backpressure), and larger than the part
    // of a chunked body held in memory (spilled to a file).
    std::string body = test_body(3 << 20);
    r = post(client, "/size.php", "application/octet-stream", body, false);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, size_and_hash(body));
    r = post(client, "/size.php", "application/octet-stream", body, true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, size_and_hash(body));
    // The connections, to the client and to php-fpm, serve on.
    client.send("GET /page.php?x=after HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.read_response(r, 20000)) << client.error();
    EXPECT_EQ(r.body.substr(0, 12), "hello after ");
}

std::vector<std::string> engines_here() {
    std::vector<std::string> names;
    for (const auto& name : engine::available()) names.push_back(name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Engines, FastcgiBodyOnEveryEngine, ::testing::ValuesIn(engines_here()),
                         engine_param_name);

/// Whether the process holds an open file in `directory` (an unnamed one reads
/// "DIR/#INODE (deleted)").
bool holds_file_in(pid_t pid, const std::string& directory) {
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
        std::string target = std::filesystem::read_symlink(entry.path(), error).string();
        if (!error && target.starts_with(directory + "/")) return true;
    }
    return false;
}

TEST(FastcgiMemory, LargeChunkedBodyIsHeldInAFileBeforePhpRuns) {
    TempDir spool;
    TempDir marks;
    PhpSite site({"--max-body-bytes", "67108864", "--fastcgi-temp-dir", spool.path()});
    write_scripts(site);
    site.root.write("upload.php", "<?php touch('" + marks.path() +
                                      "/ran'); $in = file_get_contents('php://input');\n"
                                      "echo strlen($in), ' ', sha1($in), \"\\n\";\n");
    {
        // The server's buffers for a chunked body and its FastCGI request, made once.
        HttpClient warm(site.port());
        EXPECT_EQ(post(warm, "/size.php", "text/plain", "warm", true).status, 200);
    }
    std::uint64_t before = peak_rss_kib(site.server->pid());

    std::string body = test_body(24 << 20);
    std::string framed = chunks(body, 60000);
    std::size_t most = framed.size() - 1000;
    HttpClient client(site.port());
    client.send(
        "POST /upload.php HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream"
        "\r\nTransfer-Encoding: chunked\r\n\r\n");
    client.send(std::string_view(framed).substr(0, most));
    // Most of the body is in: it is in an unnamed file of --fastcgi-temp-dir, and php-fpm has
    // not been asked yet (a slow upload ties up no worker). Waited for, not timed: the server
    // takes the bytes as it reads them.
    bool held = false;
    for (int i = 0; i < 1000 && !held; ++i) {
        held = holds_file_in(site.server->pid(), spool.path());
        if (!held) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(held) << "no file of " << spool.path() << " is open in the server";
    EXPECT_FALSE(std::filesystem::exists(marks.path() + "/ran")) << "PHP ran before the body";
    client.send(std::string_view(framed).substr(most));
    client.send(kLastChunk);
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 60000)) << client.error() << site.fpm.log();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, size_and_hash(body));
    EXPECT_TRUE(std::filesystem::exists(marks.path() + "/ran"));

    std::uint64_t after = peak_rss_kib(site.server->pid());
    EXPECT_LT(after, before + 8 * 1024) << "peak RSS went from " << before << " KiB to " << after;
    // The file had no name, and is gone with its descriptor.
    EXPECT_TRUE(std::filesystem::is_empty(spool.path()));
    EXPECT_FALSE(holds_file_in(site.server->pid(), spool.path()));
}

TEST(FastcgiBody, ChunkedBodyPastTheLimitIs413AndNeverReachesPhp) {
    TempDir marks;
    PhpSite site({"--max-body-bytes", "1048576"});
    site.root.write("upload.php", "<?php touch('" + marks.path() + "/ran'); echo 'ran';\n");
    HttpClient client(site.port());
    client.send("POST /upload.php HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    try {
        client.send(chunks(test_body(2 << 20), 60000));
        client.send(kLastChunk);
    } catch (const std::runtime_error&) {
        // The server may refuse the rest once it answered: the answer is what counts.
    }
    HttpResponse r;
    ASSERT_TRUE(client.read_response(r, 20000)) << client.error();
    EXPECT_EQ(r.status, 413);
    // php-fpm serves on, and never ran the script.
    HttpClient next(site.port());
    next.send("GET /page.php?x=next HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(next.read_response(r, 20000)) << next.error();
    EXPECT_EQ(r.body.substr(0, 11), "hello next ");
    EXPECT_FALSE(std::filesystem::exists(marks.path() + "/ran"));
    // At the limit is fine.
    std::string body = test_body(1 << 20);
    site.root.write("size.php",
                    "<?php $in = file_get_contents('php://input');\n"
                    "echo strlen($in), ' ', sha1($in), \"\\n\";\n");
    r = post(next, "/size.php", "application/octet-stream", body, true);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, size_and_hash(body));
}

TEST(FastcgiBody, TempDirFlagSaysWhatIsWrong) {
    auto r = run_command(
        {"serve", "-t", "--fastcgi", "/=127.0.0.1:9000", "--fastcgi-temp-dir", "spool"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--fastcgi-temp-dir 'spool': give an absolute path"), std::string::npos)
        << r.output;
    TempDir dir;
    std::string missing = dir.path() + "/missing";
    r = run_command(
        {"serve", "-t", "--fastcgi", "/=127.0.0.1:9000", "--fastcgi-temp-dir", missing});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("no temporary file can be made there"), std::string::npos) << r.output;
    r = run_command(
        {"serve", "-t", "--fastcgi", "/=127.0.0.1:9000", "--fastcgi-temp-dir", dir.path()});
    EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
}  // namespace c10k::test
