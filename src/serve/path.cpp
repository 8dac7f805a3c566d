#include "serve/path.hpp"

#include <vector>

#include "core/hex.hpp"

namespace c10k::serve {

namespace {

using core::hex_value;

/// Decodes %XX escapes; nullopt on a malformed escape or any NUL byte.
std::optional<std::string> percent_decode(std::string_view encoded) {
    std::string out;
    out.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        char c = encoded[i];
        if (c == '%') {
            if (i + 2 >= encoded.size()) return std::nullopt;
            int high = hex_value(encoded[i + 1]);
            int low = hex_value(encoded[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            c = static_cast<char>(high * 16 + low);
            i += 2;
        }
        // A NUL would end the name early inside the kernel, so what we checked and what we
        // opened would differ.
        if (c == '\0') return std::nullopt;
        out.push_back(c);
    }
    return out;
}

bool is_unreserved_or_allowed(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    // RFC 3986: unreserved marks, sub-delims, and the pchar extras ':' '@', plus '/'.
    constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/";
    return c != 0 && kAllowed.find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

std::optional<std::string> normalize_path(std::string_view encoded) {
    if (encoded.empty() || encoded.front() != '/') return std::nullopt;
    std::optional<std::string> decoded = percent_decode(encoded);
    if (!decoded) return std::nullopt;
    std::string_view text = *decoded;

    // Segments are views into `decoded`, which outlives them.
    std::vector<std::string_view> segments;
    bool trailing_slash = false;
    std::size_t pos = 1;
    while (true) {
        std::size_t slash = text.find('/', pos);
        bool last = slash == std::string_view::npos;
        std::string_view segment = text.substr(pos, last ? std::string_view::npos : slash - pos);
        if (segment == "..") {
            if (segments.empty()) return std::nullopt;
            segments.pop_back();
            trailing_slash = true;
        } else if (segment == "." || segment.empty()) {
            trailing_slash = true;
        } else {
            segments.push_back(segment);
            trailing_slash = false;
        }
        if (last) break;
        pos = slash + 1;
    }

    std::string out;
    out.reserve(text.size());
    for (std::string_view segment : segments) {
        out.push_back('/');
        out.append(segment);
    }
    if (out.empty() || trailing_slash) out.push_back('/');
    return out;
}

std::string relative_path(std::string_view normalized) {
    while (!normalized.empty() && normalized.front() == '/') normalized.remove_prefix(1);
    while (!normalized.empty() && normalized.back() == '/') normalized.remove_suffix(1);
    if (normalized.empty()) return ".";
    return std::string(normalized);
}

bool is_plain_path(std::string_view encoded) {
    if (encoded.empty() || encoded.front() != '/') return false;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        char c = encoded[i];
        if (c == '%' || c == '\0') return false;
        if (c == '/' && i + 1 < encoded.size() && (encoded[i + 1] == '.' || encoded[i + 1] == '/'))
            return false;
    }
    return true;
}

bool has_dot_segment(std::string_view normalized) {
    for (std::size_t i = 0; i + 1 < normalized.size(); ++i) {
        if (normalized[i] == '/' && normalized[i + 1] == '.') return true;
    }
    return false;
}

std::string percent_encode_path(std::string_view decoded) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(decoded.size());
    for (char c : decoded) {
        auto byte = static_cast<unsigned char>(c);
        if (is_unreserved_or_allowed(byte)) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[byte >> 4]);
            out.push_back(kHex[byte & 0x0f]);
        }
    }
    return out;
}

}  // namespace c10k::serve
