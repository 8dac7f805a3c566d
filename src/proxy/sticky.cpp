#include "proxy/sticky.hpp"

#include <fmt/core.h>

#include "core/duration.hpp"
#include "core/text.hpp"
#include "proxy/balance_hash.hpp"

namespace c10k::proxy {

namespace {

/// The name of a cookie-pair ("a=1" or " a=1"), trimmed; the whole pair when it has no '='.
std::string_view pair_name(std::string_view pair) {
    return core::trim_ows(pair.substr(0, pair.find('=')));
}

/// Calls `visit` with each pair of a Cookie header as written, separators' spaces included.
template <typename Visit>
void for_each_pair(std::string_view cookie_header, Visit visit) {
    while (!cookie_header.empty()) {
        std::size_t end = cookie_header.find(';');
        visit(cookie_header.substr(0, end));
        if (end == std::string_view::npos) break;
        cookie_header.remove_prefix(end + 1);
    }
}

}  // namespace

bool parse_sticky_cookie(std::string_view text, StickyCookie& out, std::string& error) {
    constexpr std::string_view kSameSite = "samesite=";
    constexpr std::string_view kMaxAge = "max-age=";
    std::size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    std::string_view rest = comma == std::string_view::npos ? "" : text.substr(comma + 1);
    if (!core::is_token(name)) {
        error = fmt::format(
            "'{}' needs a cookie name first, made of letters, digits and !#$%&'*+-.^_`|~ (for "
            "example SERVERID or SERVERID,secure)",
            name);
        return false;
    }
    StickyCookie cookie;
    cookie.name = std::string(name);
    while (!rest.empty()) {
        comma = rest.find(',');
        std::string_view option = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
        if (option == "secure") {
            cookie.secure = true;
        } else if (option.starts_with(kSameSite)) {
            std::string_view value = option.substr(kSameSite.size());
            if (value == "lax") {
                cookie.same_site = StickyCookie::SameSite::lax;
            } else if (value == "strict") {
                cookie.same_site = StickyCookie::SameSite::strict;
            } else if (value == "none") {
                cookie.same_site = StickyCookie::SameSite::none;
            } else {
                error = fmt::format("samesite={} is not lax, strict or none", value);
                return false;
            }
        } else if (option.starts_with(kMaxAge)) {
            std::int64_t us = 0;
            std::string why;
            if (!core::parse_duration_us(option.substr(kMaxAge.size()), 1'000'000, us, why)) {
                error = fmt::format("{}: {}", option, why);
                return false;
            }
            if (us < 1'000'000) {
                error =
                    fmt::format("{}: at least 1s (leave max-age out for a session cookie)", option);
                return false;
            }
            cookie.max_age_s = us / 1'000'000;
        } else {
            error = fmt::format(
                "unknown option '{}' (known: samesite=lax|strict|none, secure, "
                "max-age=DURATION)",
                option);
            return false;
        }
    }
    if (cookie.same_site == StickyCookie::SameSite::none && !cookie.secure) {
        // Browsers refuse a SameSite=None cookie that is not Secure: clients would never stick.
        error =
            "samesite=none needs secure too (browsers drop a SameSite=None cookie without "
            "Secure): add ,secure";
        return false;
    }
    out = std::move(cookie);
    return true;
}

std::string sticky_value(std::string_view server_name) {
    return fmt::format("{:016x}", hash64(server_name));
}

std::string set_cookie_text(const StickyCookie& cookie, std::string_view value) {
    constexpr std::string_view kSameSite[] = {"Lax", "Strict", "None"};
    std::string text = fmt::format("{}={}; Path=/; HttpOnly; SameSite={}", cookie.name, value,
                                   kSameSite[static_cast<int>(cookie.same_site)]);
    if (cookie.secure) text += "; Secure";
    if (cookie.max_age_s >= 0) text += fmt::format("; Max-Age={}", cookie.max_age_s);
    return text;
}

std::string without_cookie(std::string_view cookie_header, std::string_view name) {
    std::string out;
    out.reserve(cookie_header.size());
    for_each_pair(cookie_header, [&](std::string_view pair) {
        if (pair_name(pair) == name) return;
        // Each pair keeps the space its client put after the ';' before it; the first one
        // left has no ';' before it, and no space either.
        if (out.empty()) {
            pair = core::trim_ows(pair);
            if (pair.empty()) return;
        } else {
            out.push_back(';');
        }
        out.append(pair);
    });
    return std::string(core::trim_ows(out));
}

bool has_cookie(std::string_view cookie_header, std::string_view name) {
    bool found = false;
    for_each_pair(cookie_header, [&](std::string_view pair) {
        if (pair_name(pair) == name) found = true;
    });
    return found;
}

}  // namespace c10k::proxy
