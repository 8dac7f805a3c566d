// The request head the proxy sends to a backend (proxy/forward.hpp).

#include "proxy/forward.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace c10k::proxy {
namespace {

using http::Header;
using http::Method;

/// A request as the Session hands it over, with headers the test owns.
struct TestRequest {
    explicit TestRequest(std::initializer_list<Header> list, Method method = Method::get,
                         std::string_view method_text = "GET", std::string_view target = "/")
        : headers(list) {
        request.method = method;
        request.method_text = method_text;
        request.target = target;
        request.headers = headers;
    }
    // The request's span points into `headers`: a copy would point into the original.
    TestRequest(const TestRequest&) = delete;
    TestRequest& operator=(const TestRequest&) = delete;

    std::vector<Header> headers;
    http::Request request;
};

std::string head_of(const TestRequest& test, const ForwardInfo& info) {
    std::string out;
    append_request_head(test.request, info, out);
    return out;
}

/// The head's header lines, without the request line and the blank line.
std::vector<std::string> header_lines(const std::string& head) {
    std::vector<std::string> lines;
    std::size_t at = head.find("\r\n");
    while (at != std::string::npos) {
        std::size_t next = head.find("\r\n", at + 2);
        if (next == std::string::npos || next == at + 2) break;
        lines.push_back(head.substr(at + 2, next - at - 2));
        at = next;
    }
    return lines;
}

/// The values of every header called `name` (case-insensitive), in order.
std::vector<std::string> values_of(const std::string& head, std::string_view name) {
    std::vector<std::string> values;
    for (const std::string& line : header_lines(head)) {
        std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        if (http::iequals(std::string_view(line).substr(0, colon), name))
            values.push_back(line.substr(colon + 2));
    }
    return values;
}

TEST(ForwardHead, KeepsTheRequestLineAndEndToEndHeadersInOrder) {
    TestRequest test({{"Host", "example.com"},
                      {"Accept", "*/*"},
                      {"X-Multi", "one"},
                      {"Cookie", "a=1"},
                      {"X-Multi", "two"}},
                     Method::get, "GET", "/a%20b/?x=1");
    ForwardInfo info;
    info.client_address = "192.0.2.7";
    std::string head = head_of(test, info);
    EXPECT_EQ(head,
              "GET /a%20b/?x=1 HTTP/1.1\r\n"
              "Host: example.com\r\n"
              "Accept: */*\r\n"
              "X-Multi: one\r\n"
              "Cookie: a=1\r\n"
              "X-Multi: two\r\n"
              "X-Forwarded-For: 192.0.2.7\r\n"
              "X-Forwarded-Proto: http\r\n"
              "Forwarded: for=192.0.2.7;proto=http;host=example.com\r\n"
              "\r\n");
}

TEST(ForwardHead, AppendsToWhatTheBufferHolds) {
    TestRequest test({{"Host", "h"}});
    std::string out = "already here";
    append_request_head(test.request, ForwardInfo{}, out);
    EXPECT_EQ(out.rfind("already hereGET / HTTP/1.1\r\n", 0), 0u) << out;
    EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(ForwardHead, DropsTheHopByHopHeaders) {
    TestRequest test({{"Host", "h"},
                      {"Connection", "keep-alive"},
                      {"Keep-Alive", "timeout=5"},
                      {"Proxy-Connection", "keep-alive"},
                      {"TE", "trailers"},
                      {"Trailer", "X-Checksum"},
                      {"Transfer-Encoding", "chunked"},
                      {"Upgrade", "websocket"},
                      {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                      {"Proxy-Authenticate", "Basic"},
                      {"Expect", "100-continue"},
                      {"Authorization", "Bearer end-to-end"},
                      {"Cache-Control", "no-cache"}},
                     Method::post, "POST", "/upload");
    ForwardInfo info;
    info.content_length = 0;
    std::string head = head_of(test, info);
    for (std::string_view name :
         {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
          "Upgrade", "Proxy-Authorization", "Proxy-Authenticate", "Expect"}) {
        EXPECT_TRUE(values_of(head, name).empty()) << name << " in\n" << head;
    }
    EXPECT_EQ(values_of(head, "Authorization"), std::vector<std::string>{"Bearer end-to-end"});
    EXPECT_EQ(values_of(head, "Cache-Control"), std::vector<std::string>{"no-cache"});
    EXPECT_EQ(values_of(head, "Content-Length"), std::vector<std::string>{"0"});
}

TEST(ForwardHead, DropsHeadersNamedInConnectionWhateverTheirCaseAndSpacing) {
    TestRequest test({{"Host", "h"},
                      {"Connection", "X-Alpha ,  x-beta,,\tX-GAMMA"},
                      {"connection", "close, x-delta"},
                      {"x-alpha", "1"},
                      {"X-Beta", "2"},
                      {"X-Gamma", "3"},
                      {"X-DELTA", "4"},
                      {"X-Epsilon", "5"},
                      {"X-Alphabet", "6"}});
    std::string head = head_of(test, ForwardInfo{});
    for (std::string_view name : {"X-Alpha", "X-Beta", "X-Gamma", "X-Delta", "Connection"}) {
        EXPECT_TRUE(values_of(head, name).empty()) << name << " in\n" << head;
    }
    EXPECT_EQ(values_of(head, "X-Epsilon"), std::vector<std::string>{"5"});
    EXPECT_EQ(values_of(head, "X-Alphabet"), std::vector<std::string>{"6"}) << "whole names only";
}

TEST(ForwardHead, ConnectionCannotRemoveHostOrTheProxysOwnHeaders) {
    TestRequest test({{"Host", "example.com"},
                      {"Connection", "Host, X-Forwarded-For, Forwarded, X-Forwarded-Proto"},
                      {"X-Forwarded-For", "203.0.113.9"},
                      {"Forwarded", "for=203.0.113.9"}});
    ForwardInfo info;
    info.client_address = "192.0.2.7";
    std::string head = head_of(test, info);
    EXPECT_EQ(values_of(head, "Host"), std::vector<std::string>{"example.com"});
    // The client's own values go, as Connection asks; this hop's are added regardless.
    EXPECT_EQ(values_of(head, "X-Forwarded-For"), std::vector<std::string>{"192.0.2.7"});
    EXPECT_EQ(values_of(head, "Forwarded"),
              std::vector<std::string>{"for=192.0.2.7;proto=http;host=example.com"});
    EXPECT_EQ(values_of(head, "X-Forwarded-Proto"), std::vector<std::string>{"http"});
}

TEST(ForwardHead, StartsAnXForwardedForListWhenThereIsNone) {
    TestRequest test({{"Host", "h"}});
    ForwardInfo info;
    info.client_address = "198.51.100.4";
    EXPECT_EQ(values_of(head_of(test, info), "X-Forwarded-For"),
              std::vector<std::string>{"198.51.100.4"});
}

TEST(ForwardHead, AppendsTheClientToAnExistingXForwardedForList) {
    TestRequest test({{"Host", "h"},
                      {"X-Forwarded-For", "10.0.0.1,10.0.0.2 "},
                      {"Accept", "*/*"},
                      {"x-forwarded-for", "10.0.0.3"},
                      {"X-Forwarded-For", ""}});
    ForwardInfo info;
    info.client_address = "198.51.100.4";
    std::string head = head_of(test, info);
    EXPECT_EQ(values_of(head, "X-Forwarded-For"),
              std::vector<std::string>{"10.0.0.1, 10.0.0.2, 10.0.0.3, 198.51.100.4"});
}

TEST(ForwardHead, WritesAnIpv6ClientBareInXForwardedForAndQuotedInForwarded) {
    TestRequest test({{"Host", "h"}});
    ForwardInfo info;
    info.client_address = "[2001:db8::1]";
    std::string head = head_of(test, info);
    EXPECT_EQ(values_of(head, "X-Forwarded-For"), std::vector<std::string>{"2001:db8::1"});
    EXPECT_EQ(values_of(head, "Forwarded"),
              std::vector<std::string>{"for=\"[2001:db8::1]\";proto=http;host=h"});

    info.client_address = "::1";  // without brackets: they are added where RFC 7239 wants them
    head = head_of(test, info);
    EXPECT_EQ(values_of(head, "X-Forwarded-For"), std::vector<std::string>{"::1"});
    EXPECT_EQ(values_of(head, "Forwarded"),
              std::vector<std::string>{"for=\"[::1]\";proto=http;host=h"});
}

TEST(ForwardHead, QuotesForwardedValuesThatAreNotTokens) {
    TestRequest test({{"Host", "example.com:8080"}});
    ForwardInfo info;
    info.client_address = "192.0.2.7";
    info.listener_address = "[::1]:8080";
    EXPECT_EQ(values_of(head_of(test, info), "Forwarded"),
              std::vector<std::string>{
                  "for=192.0.2.7;by=\"[::1]:8080\";proto=http;host=\"example.com:8080\""});

    info.listener_address = "";
    info.host = "odd\"host\\";  // the caller's choice of host wins over the header
    EXPECT_EQ(values_of(head_of(test, info), "Forwarded"),
              std::vector<std::string>{"for=192.0.2.7;proto=http;host=\"odd\\\"host\\\\\""});
}

TEST(ForwardHead, AppendsThisHopToAnExistingForwardedList) {
    TestRequest test({{"Host", "h"},
                      {"Forwarded", "for=203.0.113.9;host=\"a,b\""},
                      {"Forwarded", " for=\"[2001:db8::5]\" "}});
    ForwardInfo info;
    info.client_address = "192.0.2.7";
    EXPECT_EQ(values_of(head_of(test, info), "Forwarded"),
              std::vector<std::string>{"for=203.0.113.9;host=\"a,b\", for=\"[2001:db8::5]\", "
                                       "for=192.0.2.7;proto=http;host=h"});
}

TEST(ForwardHead, SaysUnknownWhenTheClientAddressIsNotKnown) {
    TestRequest test({{"Host", "h"}});
    std::string head = head_of(test, ForwardInfo{});
    EXPECT_EQ(values_of(head, "X-Forwarded-For"), std::vector<std::string>{"unknown"});
    EXPECT_EQ(values_of(head, "Forwarded"),
              std::vector<std::string>{"for=unknown;proto=http;host=h"});
}

TEST(ForwardHead, ReplacesTheClientsXForwardedProto) {
    TestRequest test({{"Host", "h"}, {"X-Forwarded-Proto", "https"}});
    ForwardInfo info;
    EXPECT_EQ(values_of(head_of(test, info), "X-Forwarded-Proto"),
              std::vector<std::string>{"http"});
    info.client_tls = true;
    std::string head = head_of(test, info);
    EXPECT_EQ(values_of(head, "X-Forwarded-Proto"), std::vector<std::string>{"https"});
    EXPECT_EQ(values_of(head, "Forwarded"),
              std::vector<std::string>{"for=unknown;proto=https;host=h"});
}

TEST(ForwardHead, ReplacesTheClientsFramingWithTheProxys) {
    TestRequest test({{"Host", "h"}, {"Content-Length", "5"}, {"content-length", "5"}},
                     Method::post, "POST", "/form");
    ForwardInfo info;
    info.content_length = 1234567890123ull;
    std::string head = head_of(test, info);
    EXPECT_EQ(values_of(head, "Content-Length"), std::vector<std::string>{"1234567890123"});

    TestRequest chunked({{"Host", "h"}, {"Transfer-Encoding", "gzip, chunked"}}, Method::put, "PUT",
                        "/file");
    info.content_length = 11;
    head = head_of(chunked, info);
    EXPECT_TRUE(values_of(head, "Transfer-Encoding").empty()) << head;
    EXPECT_EQ(values_of(head, "Content-Length"), std::vector<std::string>{"11"});

    info.content_length.reset();
    head = head_of(test, info);
    EXPECT_TRUE(values_of(head, "Content-Length").empty()) << head;
}

TEST(ForwardHead, PassesAnUpgradeThroughWhenAsked) {
    TestRequest test({{"Host", "h"},
                      {"Connection", "keep-alive, Upgrade"},
                      {"Upgrade", "websocket"},
                      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                      {"Sec-WebSocket-Version", "13"}},
                     Method::get, "GET", "/chat");
    ForwardInfo info;
    info.upgrade = true;
    std::string head = head_of(test, info);
    EXPECT_EQ(values_of(head, "Connection"), std::vector<std::string>{"Upgrade"});
    EXPECT_EQ(values_of(head, "Upgrade"), std::vector<std::string>{"websocket"});
    EXPECT_EQ(values_of(head, "Sec-WebSocket-Key"),
              std::vector<std::string>{"dGhlIHNhbXBsZSBub25jZQ=="});
    EXPECT_EQ(values_of(head, "Sec-WebSocket-Version"), std::vector<std::string>{"13"});

    // Not a tunnel: the backend must not be asked to switch protocols.
    info.upgrade = false;
    head = head_of(test, info);
    EXPECT_TRUE(values_of(head, "Connection").empty()) << head;
    EXPECT_TRUE(values_of(head, "Upgrade").empty()) << head;
}

TEST(ForwardHead, GivesAnHttp10RequestWithoutHostTheBackendsAddress) {
    TestRequest test({{"Connection", "keep-alive"}, {"User-Agent", "old/1.0"}}, Method::get, "GET",
                     "/legacy");
    test.request.version_minor = 0;
    ForwardInfo info;
    info.client_address = "192.0.2.7";
    info.backend_host = "127.0.0.1:9001";
    std::string head = head_of(test, info);
    EXPECT_EQ(head.rfind("GET /legacy HTTP/1.1\r\n", 0), 0u) << head;
    EXPECT_EQ(values_of(head, "Host"), std::vector<std::string>{"127.0.0.1:9001"});
    EXPECT_TRUE(values_of(head, "Connection").empty()) << head;
    EXPECT_EQ(values_of(head, "User-Agent"), std::vector<std::string>{"old/1.0"});
    // The client named no host, so Forwarded says none.
    EXPECT_EQ(values_of(head, "Forwarded"), std::vector<std::string>{"for=192.0.2.7;proto=http"});

    info.backend_host = "";
    head = head_of(test, info);
    EXPECT_NE(head.find("\r\nHost: \r\n"), std::string::npos) << head;
}

TEST(ForwardHead, KeepsTheHostOfAnHttp10RequestThatSentOne) {
    TestRequest test({{"Host", "www.example.com"}});
    test.request.version_minor = 0;
    ForwardInfo info;
    info.backend_host = "127.0.0.1:9001";
    EXPECT_EQ(values_of(head_of(test, info), "Host"), std::vector<std::string>{"www.example.com"});
}

TEST(ForwardHead, SendsAnExtensionMethodAsItCame) {
    TestRequest test({{"Host", "h"}}, Method::other, "PROPFIND", "/dav/");
    EXPECT_EQ(head_of(test, ForwardInfo{}).rfind("PROPFIND /dav/ HTTP/1.1\r\n", 0), 0u);
}

TEST(ForwardIdempotence, FollowsRfc9110) {
    EXPECT_TRUE(is_idempotent(Method::get));
    EXPECT_TRUE(is_idempotent(Method::head));
    EXPECT_TRUE(is_idempotent(Method::options));
    EXPECT_TRUE(is_idempotent(Method::trace));
    EXPECT_TRUE(is_idempotent(Method::put));
    EXPECT_TRUE(is_idempotent(Method::delete_));
    EXPECT_FALSE(is_idempotent(Method::post));
    EXPECT_FALSE(is_idempotent(Method::patch));
    EXPECT_FALSE(is_idempotent(Method::connect));
    EXPECT_FALSE(is_idempotent(Method::other));
}

}  // namespace
}  // namespace c10k::proxy
