#pragma once
// Cookie stickiness (HAProxy's `cookie NAME insert indirect`): the proxy names the server that
// answered in a cookie of its own, a client that sends it back goes to that server, and the
// server never sees the cookie. The value is a hash of the server's name, so every loop and
// process, and the next proxy after a restart or reload, reads it the same way, and the
// backend's address is not shown to clients.

#include <cstdint>
#include <string>
#include <string_view>

namespace c10k::proxy {

struct StickyCookie {
    enum class SameSite : std::uint8_t { lax, strict, none };
    std::string name;  ///< empty: stickiness is off
    SameSite same_site = SameSite::lax;
    bool secure = false;
    /// Max-Age in seconds; negative: none (the cookie ends with the browser's session).
    std::int64_t max_age_s = -1;

    bool enabled() const { return !name.empty(); }
};

/// Parses "NAME[,samesite=lax|strict|none][,secure][,max-age=DURATION]". Returns false, with a
/// sentence in `error`, for anything else, and for samesite=none without secure (browsers
/// drop such a cookie, so the client would never stick).
bool parse_sticky_cookie(std::string_view text, StickyCookie& out, std::string& error);

/// The cookie value that names a server: 16 hex digits of a 64-bit hash of its name.
std::string sticky_value(std::string_view server_name);

/// The Set-Cookie value for a server whose sticky value is `value`:
/// "NAME=VALUE; Path=/; HttpOnly; SameSite=Lax" and the configured attributes.
std::string set_cookie_text(const StickyCookie& cookie, std::string_view value);

/// A Cookie header's value without the cookie called `name`: the other pairs are kept byte for
/// byte, with their separators. Empty when nothing else is left.
std::string without_cookie(std::string_view cookie_header, std::string_view name);

/// Whether the Cookie header carries a cookie called `name`.
bool has_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace c10k::proxy
