// The opening handshake (RFC 6455 4.2): checks in the order the header documents, each refusal
// with the status and headers RFC 6455 and RFC 9110 ask for.

#include "websocket/handshake.hpp"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>

#include "core/text.hpp"

namespace c10k::websocket {
namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar);
}

// Calls `each` with every element of a comma-separated list over all header lines, trimmed;
// empty elements are skipped (RFC 9110 5.6.1). Stops early when `each` returns true.
template <class Each>
bool any_element(const std::vector<std::string_view>& lines, Each each) {
    for (std::string_view line : lines) {
        while (!line.empty()) {
            const std::size_t comma = line.find(',');
            const std::string_view element = core::trim_ows(line.substr(0, comma));
            line = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
            if (!element.empty() && each(element)) return true;
        }
    }
    return false;
}

bool has_token(const std::vector<std::string_view>& lines, std::string_view token) {
    return any_element(lines, [&](std::string_view element) { return iequals(element, token); });
}

// The single value of a header that must appear once; nothing when absent or repeated.
std::optional<std::string_view> single(const std::vector<std::string_view>& lines) {
    if (lines.size() != 1) return std::nullopt;
    return core::trim_ows(lines.front());
}

std::string base64(const std::uint8_t* data, std::size_t size) {
    std::string out(BASE64_ENCODE_RAW_LENGTH(size), '\0');
    base64_encode_raw(out.data(), size, data);
    return out;
}

HandshakeResult refuse(int status, std::string reason, std::vector<HandshakeHeader> headers = {}) {
    HandshakeResult result;
    result.status = status;
    result.reason = std::move(reason);
    result.headers = std::move(headers);
    return result;
}

}  // namespace

void HandshakeRequest::add_header(std::string_view name, std::string_view value) {
    struct Field {
        std::string_view name;
        std::vector<std::string_view> HandshakeRequest::*lines;
    };
    static constexpr Field fields[] = {
        {"host", &HandshakeRequest::host},
        {"upgrade", &HandshakeRequest::upgrade},
        {"connection", &HandshakeRequest::connection},
        {"sec-websocket-key", &HandshakeRequest::websocket_key},
        {"sec-websocket-version", &HandshakeRequest::websocket_version},
        {"sec-websocket-protocol", &HandshakeRequest::websocket_protocol},
        {"sec-websocket-extensions", &HandshakeRequest::websocket_extensions},
        {"origin", &HandshakeRequest::origin},
    };
    for (const Field& field : fields) {
        if (iequals(name, field.name)) {
            (this->*field.lines).push_back(value);
            return;
        }
    }
}

bool valid_key(std::string_view key) {
    key = core::trim_ows(key);
    // 16 bytes are 22 base64 characters and "==" (RFC 4648 section 4).
    if (key.size() != 24 || key.substr(22) != "==") return false;
    const auto in_alphabet = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/';
    };
    if (!std::all_of(key.begin(), key.begin() + 22, in_alphabet)) return false;
    base64_decode_ctx context;
    base64_decode_init(&context);
    std::array<std::uint8_t, BASE64_DECODE_LENGTH(24)> decoded{};
    std::size_t length = decoded.size();
    if (!base64_decode_update(&context, &length, decoded.data(), key.size(), key.data())) {
        return false;
    }
    return base64_decode_final(&context) && length == 16;
}

std::string accept_for_key(std::string_view key) {
    key = core::trim_ows(key);
    sha1_ctx context;
    sha1_init(&context);
    sha1_update(&context, key.size(), reinterpret_cast<const std::uint8_t*>(key.data()));
    sha1_update(&context, websocket_guid.size(),
                reinterpret_cast<const std::uint8_t*>(websocket_guid.data()));
    std::array<std::uint8_t, SHA1_DIGEST_SIZE> digest;
    sha1_digest(&context, digest.size(), digest.data());
    return base64(digest.data(), digest.size());
}

std::string make_client_key() {
    std::array<std::uint8_t, 16> nonce;
    // getrandom returns all of up to 256 bytes once the kernel's pool is ready; should it fail
    // (no such syscall), std::random_device still gives a valid nonce, which needs no secrecy.
    if (getrandom(nonce.data(), nonce.size(), 0) != static_cast<ssize_t>(nonce.size())) {
        std::random_device device;
        for (auto& byte : nonce) byte = static_cast<std::uint8_t>(device());
    }
    return base64(nonce.data(), nonce.size());
}

bool check_accept(std::string_view key, std::string_view accept) {
    return core::trim_ows(accept) == accept_for_key(key);
}

HandshakeResult accept_handshake(const HandshakeRequest& request, const HandshakePolicy& policy) {
    if (request.method != "GET") {
        return refuse(405, "a WebSocket handshake must be a GET", {{"Allow", "GET"}});
    }
    if (request.version_major < 1 || (request.version_major == 1 && request.version_minor < 1)) {
        return refuse(400, "a WebSocket handshake needs HTTP/1.1");
    }
    if (!has_token(request.upgrade, "websocket")) {
        return refuse(426, "this resource speaks only WebSocket",
                      {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}});
    }
    if (!has_token(request.connection, "upgrade")) {
        return refuse(400, "Connection must include \"upgrade\" for a WebSocket handshake");
    }
    if (const auto host = single(request.host); !host || host->empty()) {
        return refuse(400, "a WebSocket handshake needs exactly one Host header");
    }
    if (single(request.websocket_version) != "13") {
        return refuse(426, "only WebSocket version 13 is supported",
                      {{"Sec-WebSocket-Version", "13"}});
    }
    const auto key = single(request.websocket_key);
    if (!key || !valid_key(*key)) {
        return refuse(400, "Sec-WebSocket-Key must be the base64 of 16 bytes, sent once");
    }
    if (request.origin.size() > 1) return refuse(403, "more than one Origin header");
    if (!policy.allowed_origins.empty()) {
        if (request.origin.empty()) {
            if (!policy.allow_missing_origin) return refuse(403, "Origin is required");
        } else {
            const std::string_view origin = core::trim_ows(request.origin.front());
            const bool allowed =
                std::any_of(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                            [&](const std::string& allowed) { return iequals(origin, allowed); });
            if (!allowed) return refuse(403, "Origin " + std::string(origin) + " is not allowed");
        }
    }
    const bool bad_protocol = any_element(
        request.websocket_protocol, [](std::string_view element) { return !is_token(element); });
    if (bad_protocol) return refuse(400, "Sec-WebSocket-Protocol must be a list of tokens");

    HandshakeResult result;
    result.accept = accept_for_key(*key);
    result.headers = {{"Upgrade", "websocket"},
                      {"Connection", "Upgrade"},
                      {"Sec-WebSocket-Accept", result.accept}};
    // The server's preference decides among the protocols both sides speak.
    for (const std::string& protocol : policy.subprotocols) {
        if (any_element(request.websocket_protocol,
                        [&](std::string_view element) { return element == protocol; })) {
            result.subprotocol = protocol;
            result.headers.push_back({"Sec-WebSocket-Protocol", protocol});
            break;
        }
    }
    if (!request.websocket_extensions.empty()) {
        std::string offers;
        for (std::string_view line : request.websocket_extensions) {
            if (!offers.empty()) offers += ", ";
            offers += line;
        }
        if (auto agreement = negotiate_deflate(offers, policy.deflate)) {
            result.extensions = std::move(agreement->response);
            result.deflate = agreement->params;
            result.headers.push_back({"Sec-WebSocket-Extensions", result.extensions});
        }
    }
    return result;
}

}  // namespace c10k::websocket
