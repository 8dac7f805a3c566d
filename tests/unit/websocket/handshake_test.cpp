// The opening handshake: RFC 6455's example, every refusal with its status and headers, token
// lists, the choice of subprotocol, extensions, and the client's key and Accept check.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "websocket/handshake.hpp"

namespace c10k::websocket {
namespace {

// The handshake of RFC 6455 section 1.3.
HandshakeRequest rfc_request() {
    HandshakeRequest request;
    request.method = "GET";
    request.add_header("Host", "server.example.com");
    request.add_header("Upgrade", "websocket");
    request.add_header("Connection", "Upgrade");
    request.add_header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    request.add_header("Origin", "http://example.com");
    request.add_header("Sec-WebSocket-Protocol", "chat, superchat");
    request.add_header("Sec-WebSocket-Version", "13");
    return request;
}

std::string header(const HandshakeResult& result, std::string_view name) {
    std::string value;
    for (const auto& h : result.headers) {
        if (h.name == name) value += (value.empty() ? "" : "|") + h.value;
    }
    return value;
}

TEST(Handshake, Rfc6455Example) {
    EXPECT_EQ(accept_for_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    HandshakePolicy policy;
    policy.subprotocols = {"chat"};
    const HandshakeResult result = accept_handshake(rfc_request(), policy);
    ASSERT_TRUE(result.accepted()) << result.reason;
    EXPECT_EQ(result.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(result.subprotocol, "chat");
    EXPECT_EQ(result.extensions, "");
    EXPECT_FALSE(result.deflate);
    ASSERT_EQ(result.headers.size(), 4u);
    EXPECT_EQ(header(result, "Upgrade"), "websocket");
    EXPECT_EQ(header(result, "Connection"), "Upgrade");
    EXPECT_EQ(header(result, "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(header(result, "Sec-WebSocket-Protocol"), "chat");
}

TEST(Handshake, AddHeaderFilesByNameCaseInsensitively) {
    HandshakeRequest request;
    request.add_header("sec-websocket-KEY", "k");
    request.add_header("SEC-WEBSOCKET-PROTOCOL", "a");
    request.add_header("Sec-WebSocket-Protocol", "b");
    request.add_header("X-Other", "ignored");
    EXPECT_EQ(request.websocket_key, std::vector<std::string_view>{"k"});
    EXPECT_EQ(request.websocket_protocol, (std::vector<std::string_view>{"a", "b"}));
}

TEST(Handshake, NotGetIs405WithAllow) {
    auto request = rfc_request();
    request.method = "POST";
    const auto result = accept_handshake(request, {});
    EXPECT_EQ(result.status, 405);
    EXPECT_EQ(header(result, "Allow"), "GET");
    request.method = "get";  // methods are case-sensitive
    EXPECT_EQ(accept_handshake(request, {}).status, 405);
}

TEST(Handshake, Http10Is400) {
    auto request = rfc_request();
    request.version_minor = 0;
    const auto result = accept_handshake(request, {});
    EXPECT_EQ(result.status, 400);
    EXPECT_TRUE(result.headers.empty());
    EXPECT_NE(result.reason.find("HTTP/1.1"), std::string::npos);
}

TEST(Handshake, APlainRequestIsToldToUpgrade) {
    auto request = rfc_request();
    request.upgrade.clear();
    auto result = accept_handshake(request, {});
    EXPECT_EQ(result.status, 426);
    EXPECT_EQ(header(result, "Upgrade"), "websocket");
    EXPECT_EQ(header(result, "Connection"), "Upgrade");
    // Another protocol, or a versioned websocket, is not WebSocket 13.
    for (const char* upgrade : {"h2c", "websocket/13", "web socket", "websockets"}) {
        request.upgrade = {upgrade};
        EXPECT_EQ(accept_handshake(request, {}).status, 426) << upgrade;
    }
}

TEST(Handshake, UpgradeAndConnectionAreTokenLists) {
    auto request = rfc_request();
    for (auto [upgrade, connection] : std::initializer_list<std::pair<const char*, const char*>>{
             {"WebSocket", "upgrade"},
             {"h2c, websocket", "keep-alive, Upgrade"},
             {" websocket ", ",, \tUPGRADE ,"},
             {"foo,websocket,bar", "close,upgrade"},
         }) {
        request.upgrade = {upgrade};
        request.connection = {connection};
        EXPECT_TRUE(accept_handshake(request, {}).accepted()) << upgrade << " / " << connection;
    }
    // Across several header lines.
    request.upgrade = {"h2c", "websocket"};
    request.connection = {"keep-alive", "Upgrade"};
    EXPECT_TRUE(accept_handshake(request, {}).accepted());

    request.upgrade = {"websocket"};
    for (const char* connection : {"keep-alive", "upgrade2", "up grade", "Upgrade;q=1", ""}) {
        request.connection = {connection};
        const auto result = accept_handshake(request, {});
        EXPECT_EQ(result.status, 400) << connection;
        EXPECT_TRUE(result.headers.empty());
    }
    request.connection.clear();
    EXPECT_EQ(accept_handshake(request, {}).status, 400);
}

TEST(Handshake, HostIsRequiredOnce) {
    auto request = rfc_request();
    request.host.clear();
    EXPECT_EQ(accept_handshake(request, {}).status, 400);
    request.host = {"  "};
    EXPECT_EQ(accept_handshake(request, {}).status, 400);
    request.host = {"a", "b"};
    EXPECT_EQ(accept_handshake(request, {}).status, 400);
}

TEST(Handshake, VersionOtherThan13Is426WithTheVersion) {
    auto request = rfc_request();
    for (std::vector<std::string_view> version :
         {std::vector<std::string_view>{"8"}, {"14"}, {"13, 8"}, {""}, {"13", "13"}, {}}) {
        request.websocket_version = version;
        const auto result = accept_handshake(request, {});
        EXPECT_EQ(result.status, 426);
        EXPECT_EQ(header(result, "Sec-WebSocket-Version"), "13");
    }
    request.websocket_version = {" 13 "};
    EXPECT_TRUE(accept_handshake(request, {}).accepted());
}

TEST(Handshake, KeyMustBeBase64Of16Bytes) {
    EXPECT_TRUE(valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_TRUE(valid_key(" dGhlIHNhbXBsZSBub25jZQ== "));
    for (const char* key : {
             "",
             "dGhlIHNhbXBsZSBub25jZQ",        // no padding
             "dGhlIHNhbXBsZSBub25jZQ=",       // short padding
             "dGhlIHNhbXBsZSBub25jZSE=",      // 17 bytes
             "dGhlIHNhbXBsZSBub25j",          // 15 bytes
             "dGhlIHNhbXBsZSBub25jZQ==dGhl",  // trailing data
             "dGhlIHNhbXBsZSBub2 5jZQ==",     // inside space
             "dGhlIHNhbXBsZSBub25j*Q==",      // not the alphabet
             "dGhlIHNhbXBsZSBub25jZ-==",      // base64url is not base64
             "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==",
         }) {
        EXPECT_FALSE(valid_key(key)) << key;
    }
    auto request = rfc_request();
    request.websocket_key = {"dGhlIHNhbXBsZSBub25j"};
    EXPECT_EQ(accept_handshake(request, {}).status, 400);
    request.websocket_key.clear();
    EXPECT_EQ(accept_handshake(request, {}).status, 400);
    request.websocket_key = {"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="};
    EXPECT_EQ(accept_handshake(request, {}).status, 400);
}

TEST(Handshake, OriginAllowList) {
    HandshakePolicy policy;
    policy.allowed_origins = {"https://example.org", "http://example.com"};
    auto request = rfc_request();
    EXPECT_TRUE(accept_handshake(request, policy).accepted());
    request.origin = {"HTTP://Example.COM"};
    EXPECT_TRUE(accept_handshake(request, policy).accepted());
    for (const char* origin :
         {"http://evil.example", "null", "http://example.com:8080", "https://example.com"}) {
        request.origin = {origin};
        const auto result = accept_handshake(request, policy);
        EXPECT_EQ(result.status, 403) << origin;
        EXPECT_NE(result.reason.find(origin), std::string::npos);
    }
    request.origin = {"http://example.com", "http://example.com"};
    EXPECT_EQ(accept_handshake(request, policy).status, 403);
    // Non-browser clients send no Origin; whether they pass is the policy's choice.
    request.origin.clear();
    EXPECT_TRUE(accept_handshake(request, policy).accepted());
    policy.allow_missing_origin = false;
    EXPECT_EQ(accept_handshake(request, policy).status, 403);
    // Without a list any origin passes.
    request.origin = {"http://anything.example"};
    EXPECT_TRUE(accept_handshake(request, HandshakePolicy{}).accepted());
}

TEST(Handshake, TheServersPreferenceChoosesTheSubprotocol) {
    HandshakePolicy policy;
    auto request = rfc_request();  // offers "chat, superchat"
    policy.subprotocols = {"superchat", "chat"};
    EXPECT_EQ(accept_handshake(request, policy).subprotocol, "superchat");
    policy.subprotocols = {"mqtt", "chat"};
    EXPECT_EQ(accept_handshake(request, policy).subprotocol, "chat");
    // Compared exactly, across several lines.
    policy.subprotocols = {"Chat", "v2.json"};
    request.websocket_protocol = {"chat", " v1.json,v2.json "};
    EXPECT_EQ(accept_handshake(request, policy).subprotocol, "v2.json");
    // No match: accepted without Sec-WebSocket-Protocol; the client decides.
    policy.subprotocols = {"mqtt"};
    auto result = accept_handshake(request, policy);
    ASSERT_TRUE(result.accepted());
    EXPECT_EQ(result.subprotocol, "");
    EXPECT_EQ(header(result, "Sec-WebSocket-Protocol"), "");
    // None offered: none chosen.
    request.websocket_protocol.clear();
    EXPECT_EQ(accept_handshake(request, policy).subprotocol, "");
    // Not tokens: refused.
    request.websocket_protocol = {"chat, \"quoted\""};
    EXPECT_EQ(accept_handshake(request, policy).status, 400);
    request.websocket_protocol = {"a b"};
    EXPECT_EQ(accept_handshake(request, policy).status, 400);
}

TEST(Handshake, ExtensionsAreNegotiatedAcrossLines) {
    auto request = rfc_request();
    request.add_header("Sec-WebSocket-Extensions", "x-webkit-deflate-frame");
    request.add_header("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
    HandshakePolicy policy;
    policy.deflate.server_no_context_takeover = true;
    policy.deflate.client_max_window_bits = 10;
    auto result = accept_handshake(request, policy);
    ASSERT_TRUE(result.accepted());
    EXPECT_EQ(result.extensions,
              "permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
    EXPECT_EQ(header(result, "Sec-WebSocket-Extensions"), result.extensions);
    ASSERT_TRUE(result.deflate);
    EXPECT_TRUE(result.deflate->server_no_context_takeover);
    EXPECT_EQ(result.deflate->client_max_window_bits, 10);
    // Declined offers leave the handshake accepted, without the header.
    policy.deflate.enabled = false;
    result = accept_handshake(request, policy);
    ASSERT_TRUE(result.accepted());
    EXPECT_FALSE(result.deflate);
    EXPECT_EQ(header(result, "Sec-WebSocket-Extensions"), "");
    request.websocket_extensions = {"permessage-deflate; bogus"};
    result = accept_handshake(request, HandshakePolicy{});
    ASSERT_TRUE(result.accepted());
    EXPECT_FALSE(result.deflate);
}

TEST(Handshake, ClientKeyAndAcceptCheck) {
    std::set<std::string> keys;
    for (int i = 0; i < 100; ++i) {
        const std::string key = make_client_key();
        EXPECT_TRUE(valid_key(key)) << key;
        keys.insert(key);
    }
    EXPECT_EQ(keys.size(), 100u);
    const std::string key = make_client_key();
    EXPECT_TRUE(check_accept(key, accept_for_key(key)));
    EXPECT_TRUE(check_accept(key, " " + accept_for_key(key) + " "));
    EXPECT_FALSE(check_accept(key, accept_for_key(make_client_key())));
    EXPECT_FALSE(check_accept(key, ""));
    EXPECT_TRUE(check_accept("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    EXPECT_FALSE(check_accept("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo"));
}

}  // namespace
}  // namespace c10k::websocket
