// The sticky cookie's parts (proxy/sticky.hpp): the flag's text, the value naming a server, the
// Set-Cookie it sends and the Cookie header a server gets without it.

#include "proxy/sticky.hpp"

#include <gtest/gtest.h>

#include <string>

#include "proxy/forward.hpp"

namespace c10k::proxy {
namespace {

StickyCookie parsed(std::string_view text) {
    StickyCookie cookie;
    std::string error;
    EXPECT_TRUE(parse_sticky_cookie(text, cookie, error)) << text << ": " << error;
    return cookie;
}

std::string refusal(std::string_view text) {
    StickyCookie cookie;
    std::string error;
    EXPECT_FALSE(parse_sticky_cookie(text, cookie, error)) << text;
    return error;
}

TEST(StickyCookie, DefaultsToLaxHttpOnlySessionCookie) {
    StickyCookie cookie = parsed("SRV");
    EXPECT_EQ(cookie.name, "SRV");
    EXPECT_EQ(set_cookie_text(cookie, "00ff"), "SRV=00ff; Path=/; HttpOnly; SameSite=Lax");
}

TEST(StickyCookie, AttributesAsConfigured) {
    EXPECT_EQ(set_cookie_text(parsed("s,samesite=strict,max-age=1h"), "v"),
              "s=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600");
    EXPECT_EQ(set_cookie_text(parsed("s,secure,samesite=none"), "v"),
              "s=v; Path=/; HttpOnly; SameSite=None; Secure");
    EXPECT_EQ(set_cookie_text(parsed("s,max-age=90,secure"), "v"),
              "s=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=90");
}

TEST(StickyCookie, BadTextIsRefusedWithAReason) {
    EXPECT_NE(refusal("").find("cookie name"), std::string::npos);
    EXPECT_NE(refusal("a b").find("cookie name"), std::string::npos);
    EXPECT_NE(refusal("s,samesite=none").find("needs secure"), std::string::npos);
    EXPECT_NE(refusal("s,samesite=loose").find("lax, strict or none"), std::string::npos);
    EXPECT_NE(refusal("s,max-age=soon").find("max-age=soon"), std::string::npos);
    EXPECT_NE(refusal("s,max-age=0").find("at least 1s"), std::string::npos);
    EXPECT_NE(refusal("s,httponly").find("unknown option 'httponly'"), std::string::npos);
}

TEST(StickyCookie, ValueIsStableOpaqueAndDistinct) {
    std::string a = sticky_value("10.0.0.1:8080");
    EXPECT_EQ(a, sticky_value("10.0.0.1:8080"));
    EXPECT_NE(a, sticky_value("10.0.0.2:8080"));
    EXPECT_EQ(a.size(), 16u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
    EXPECT_EQ(a.find("10.0.0.1"), std::string::npos);
}

TEST(StickyCookie, OtherCookiesAreKeptByteForByte) {
    EXPECT_EQ(without_cookie("a=1; s=x; b=2", "s"), "a=1; b=2");
    EXPECT_EQ(without_cookie("s=x; a=1;b=\"q\"", "s"), "a=1;b=\"q\"");
    EXPECT_EQ(without_cookie("a=1;  s=x", "s"), "a=1");
    EXPECT_EQ(without_cookie("s=x", "s"), "");
    EXPECT_EQ(without_cookie(" s=x ; s=y", "s"), "");
    EXPECT_EQ(without_cookie("ss=1; s2=2", "s"), "ss=1; s2=2");
    EXPECT_TRUE(has_cookie("a=1; s=x", "s"));
    EXPECT_FALSE(has_cookie("a=1; ss=x", "s"));
}

TEST(StickyCookie, ForwardedHeadDropsTheCookieAndAnEmptyHeader) {
    std::vector<http::Header> headers{{"Host", "h"},
                                      {"Cookie", "theme=dark; SRV=abc; lang=en"},
                                      {"Cookie", "SRV=abc"},
                                      {"X-Other", "SRV=abc"}};
    http::Request request;
    request.method = http::Method::get;
    request.method_text = "GET";
    request.target = "/";
    request.headers = headers;
    ForwardInfo info;
    info.drop_cookie = "SRV";
    std::string head;
    append_request_head(request, info, head);
    EXPECT_NE(head.find("\r\nCookie: theme=dark; lang=en\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("Cookie: SRV"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nX-Other: SRV=abc\r\n"), std::string::npos) << head;
}

}  // namespace
}  // namespace c10k::proxy
