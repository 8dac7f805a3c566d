#include "proxy/balance_key.hpp"

#include "core/text.hpp"
#include "http/request.hpp"

namespace c10k::proxy {

bool parse_hash_key(std::string_view text, HashKey& out, std::string& error) {
    constexpr std::string_view kHeader = "header:";
    constexpr std::string_view kCookie = "cookie:";
    if (text == "uri") {
        out = {HashKey::Source::uri, {}};
        return true;
    }
    std::string_view name;
    if (text.starts_with(kHeader)) {
        out.source = HashKey::Source::header;
        name = text.substr(kHeader.size());
    } else if (text.starts_with(kCookie)) {
        out.source = HashKey::Source::cookie;
        name = text.substr(kCookie.size());
    } else {
        error = "unknown key '" + std::string(text) +
                "' (known: uri, header:NAME, cookie:NAME; for example header:X-User or "
                "cookie:session)";
        return false;
    }
    if (!core::is_token(name)) {
        std::string_view example =
            out.source == HashKey::Source::header ? "header:X-User" : "cookie:session";
        error = "'" + std::string(text) + "' needs a name after the colon, made of letters, " +
                "digits and !#$%&'*+-.^_`|~ (for example " + std::string(example) + ")";
        return false;
    }
    out.name = std::string(name);
    return true;
}

std::string_view cookie_value(std::string_view cookie_header, std::string_view name) {
    // cookie-string = cookie-pair *( ";" SP cookie-pair ) (RFC 6265 4.2.1); clients are not
    // all that tidy, so spaces and tabs around pairs, names and values are ignored, and a pair
    // without '=' is skipped.
    while (!cookie_header.empty()) {
        std::size_t end = cookie_header.find(';');
        std::string_view pair = cookie_header.substr(0, end);
        cookie_header =
            end == std::string_view::npos ? std::string_view{} : cookie_header.substr(end + 1);
        std::size_t equals = pair.find('=');
        if (equals == std::string_view::npos || core::trim_ows(pair.substr(0, equals)) != name)
            continue;
        std::string_view value = core::trim_ows(pair.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        return value;
    }
    return {};
}

std::string balance_key(const http::Request& request, Balance balance, const HashKey& key) {
    if (balance == Balance::source_hash) return std::string(request.peer);
    if (balance != Balance::hash) return {};
    switch (key.source) {
        case HashKey::Source::uri:
            return std::string(request.target);
        case HashKey::Source::header:
            return std::string(request.header(key.name));
        case HashKey::Source::cookie:
            // A client may split its cookies over several Cookie headers (HTTP/2 does, and a
            // proxy in front may have passed them on so): the first that has the name wins.
            for (const http::Header& header : request.headers) {
                if (!http::iequals(header.name, "Cookie")) continue;
                std::string_view value = cookie_value(header.value, key.name);
                if (!value.empty()) return std::string(value);
            }
            return {};
    }
    return {};
}

}  // namespace c10k::proxy
