// The access log's two formats, written to a real file: combined as nginx writes it, and JSON
// lines that stay valid JSON whatever bytes a client sent.

#include "http/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace c10k::http {
namespace {

std::string log_of(AccessLogFormat format, const Request& request, int status,
                   std::uint64_t bytes) {
    char path[] = "/tmp/c10k-access-XXXXXX";
    int fd = ::mkstemp(path);
    EXPECT_GE(fd, 0);
    {
        AccessLog log(fd, format);
        log.record("127.0.0.1", request, status, bytes, 1'000'000'000);  // 2001-09-09T01:46:40Z
    }
    ::close(fd);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    ::unlink(path);
    return text.str();
}

TEST(AccessLog, CombinedFormat) {
    Request request;
    request.method_text = "GET";
    request.target = "/a b\"c";
    std::string line = log_of(AccessLogFormat::combined, request, 200, 12);
    EXPECT_EQ(line,
              "127.0.0.1 - - [09/Sep/2001:01:46:40 +0000] \"GET /a b\\x22c HTTP/1.1\" 200 12 "
              "\"-\" \"-\"\n");
}

TEST(AccessLog, JsonLinesAreValidJsonWhateverTheClientSent) {
    Request request;
    request.method_text = "GET";
    std::string target = "/caf\xc3\xa9?q=\"x\"\\\n\x01";
    request.target = target;
    request.version_minor = 0;
    std::string line = log_of(AccessLogFormat::json, request, 404, 7);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per request";
    for (unsigned char c : line.substr(0, line.size() - 1)) {
        EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "not printable ASCII: " << int(c);
    }
    auto doc = nlohmann::json::parse(line);
    EXPECT_EQ(doc["time"], "2001-09-09T01:46:40Z");
    EXPECT_EQ(doc["remote"], "127.0.0.1");
    EXPECT_EQ(doc["method"], "GET");
    // Each byte outside printable ASCII is one \u00XX: its code point is the byte.
    std::string as_code_points;
    for (unsigned char c : target) {
        // What nlohmann decodes \u00XX into: the UTF-8 encoding of U+00XX.
        if (c < 0x80) {
            as_code_points += static_cast<char>(c);
        } else {
            as_code_points += static_cast<char>(0xc0 | (c >> 6));
            as_code_points += static_cast<char>(0x80 | (c & 0x3f));
        }
    }
    EXPECT_EQ(doc["target"].get<std::string>(), as_code_points);
    EXPECT_EQ(doc["protocol"], "HTTP/1.0");
    EXPECT_EQ(doc["status"], 404);
    EXPECT_EQ(doc["bytes"], 7);
    EXPECT_EQ(doc["referer"], "");
    EXPECT_EQ(doc["user_agent"], "");
}

}  // namespace
}  // namespace c10k::http
