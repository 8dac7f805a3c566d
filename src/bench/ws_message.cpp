#include "bench/ws_message.hpp"

#include <charconv>

#include <fmt/core.h>

namespace c10k::bench {
namespace {

// Nesting deeper than this in a member the bench skips is refused rather than recursed into.
constexpr int max_depth = 32;

constexpr std::string_view echo_magic = "c10k-echo ";

/// A cursor over one JSON text. Strings without escapes are returned as views of the text;
/// strings with escapes are decoded onto the end of `scratch`, whose capacity was reserved to
/// the text's size (a decoded string is never longer than its escaped form), so earlier views
/// into it survive later appends.
class JsonReader {
public:
    JsonReader(std::string_view text, std::string& scratch) : text_(text), scratch_(scratch) {}

    void skip_space() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' ||
                                      text_[at_] == '\n' || text_[at_] == '\r')) {
            ++at_;
        }
    }
    bool take(char c) {
        skip_space();
        if (at_ < text_.size() && text_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }
    char peek() {
        skip_space();
        return at_ < text_.size() ? text_[at_] : '\0';
    }
    bool at_end() {
        skip_space();
        return at_ == text_.size();
    }

    bool string(std::string_view& out) {
        if (!take('"')) return false;
        std::size_t start = at_;
        while (at_ < text_.size() && text_[at_] != '"' && text_[at_] != '\\') {
            if (static_cast<unsigned char>(text_[at_]) < 0x20) return false;
            ++at_;
        }
        if (at_ >= text_.size()) return false;
        if (text_[at_] == '"') {
            out = text_.substr(start, at_ - start);
            ++at_;
            return true;
        }
        std::size_t from = scratch_.size();
        scratch_.append(text_.substr(start, at_ - start));
        while (at_ < text_.size() && text_[at_] != '"') {
            char c = text_[at_++];
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                scratch_.push_back(c);
                continue;
            }
            if (at_ >= text_.size()) return false;
            char e = text_[at_++];
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    scratch_.push_back(e);
                    break;
                case 'b':
                    scratch_.push_back('\b');
                    break;
                case 'f':
                    scratch_.push_back('\f');
                    break;
                case 'n':
                    scratch_.push_back('\n');
                    break;
                case 'r':
                    scratch_.push_back('\r');
                    break;
                case 't':
                    scratch_.push_back('\t');
                    break;
                case 'u':
                    if (!unicode_escape()) return false;
                    break;
                default:
                    return false;
            }
        }
        if (at_ >= text_.size()) return false;
        ++at_;
        out = std::string_view(scratch_).substr(from);
        return true;
    }

    /// A number, true, false or null: its text.
    bool scalar(std::string_view& out) {
        skip_space();
        std::size_t start = at_;
        while (at_ < text_.size()) {
            char c = text_[at_];
            bool number =
                (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
            bool letter = c >= 'a' && c <= 'z';
            if (!number && !letter) break;
            ++at_;
        }
        out = text_.substr(start, at_ - start);
        if (out.empty()) return false;
        if (out == "true" || out == "false" || out == "null") return true;
        double ignored = 0;
        auto [end, error] = std::from_chars(out.data(), out.data() + out.size(), ignored);
        return error == std::errc() && end == out.data() + out.size();
    }

    bool skip_value(int depth) {
        if (depth > max_depth) return false;
        char c = peek();
        std::string_view ignored;
        if (c == '"') return string(ignored);
        if (c == '{') {
            take('{');
            if (take('}')) return true;
            do {
                if (!string(ignored) || !take(':') || !skip_value(depth + 1)) return false;
            } while (take(','));
            return take('}');
        }
        if (c == '[') {
            take('[');
            if (take(']')) return true;
            do {
                if (!skip_value(depth + 1)) return false;
            } while (take(','));
            return take(']');
        }
        return scalar(ignored);
    }

private:
    bool hex4(std::uint32_t& out) {
        if (at_ + 4 > text_.size()) return false;
        out = 0;
        for (int i = 0; i < 4; ++i) {
            char c = text_[at_++];
            out <<= 4;
            if (c >= '0' && c <= '9') {
                out |= static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                out |= static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                out |= static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return false;
            }
        }
        return true;
    }

    bool unicode_escape() {
        std::uint32_t code = 0;
        if (!hex4(code)) return false;
        if (code >= 0xD800 && code <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low one.
            std::uint32_t low = 0;
            if (at_ + 2 > text_.size() || text_[at_] != '\\' || text_[at_ + 1] != 'u') return false;
            at_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
            return false;
        }
        // 6 escaped bytes give at most 3 UTF-8 bytes, 12 give 4: never longer than the escape.
        if (code < 0x80) {
            scratch_.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
            scratch_.push_back(static_cast<char>(0xC0 | (code >> 6)));
            scratch_.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else if (code < 0x10000) {
            scratch_.push_back(static_cast<char>(0xE0 | (code >> 12)));
            scratch_.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            scratch_.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
            scratch_.push_back(static_cast<char>(0xF0 | (code >> 18)));
            scratch_.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
            scratch_.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            scratch_.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
        return true;
    }

    std::string_view text_;
    std::string& scratch_;
    std::size_t at_ = 0;
};

/// A member wanted as text: a string, or (ids only) a bare number.
bool text_member(JsonReader& reader, std::string_view& out, bool number_allowed) {
    if (reader.peek() == '"') return reader.string(out);
    if (!number_allowed) return reader.skip_value(0);
    return reader.scalar(out);
}

bool parse_i64(std::string_view text, std::int64_t& out) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

bool parse_ws_envelope(std::string_view text, WsEnvelope& out, std::string& scratch) {
    out = WsEnvelope{};
    scratch.clear();
    scratch.reserve(text.size());
    JsonReader reader(text, scratch);
    if (!reader.take('{')) return false;
    if (!reader.take('}')) {
        do {
            std::string_view name;
            if (!reader.string(name) || !reader.take(':')) return false;
            bool ok = true;
            if (name == "channel") {
                ok = text_member(reader, out.channel, false);
                out.has_channel = ok;
            } else if (name == "id") {
                ok = text_member(reader, out.id, true);
                out.has_id = ok;
            } else if (name == "event") {
                ok = text_member(reader, out.event, false);
                out.has_event = ok;
            } else if (name == "last_id") {
                ok = text_member(reader, out.last_id, true);
                out.has_last_id = ok;
            } else if (name == "data") {
                out.has_data = true;
                if (reader.peek() == '"') {
                    ok = reader.string(out.data);
                } else {
                    out.data_is_object = reader.peek() == '{';
                    ok = reader.skip_value(0);
                }
            } else if (name == "error") {
                out.has_error = true;
                ok = reader.skip_value(0);
            } else {
                ok = reader.skip_value(0);
            }
            if (!ok) return false;
        } while (reader.take(','));
        if (!reader.take('}')) return false;
    }
    return reader.at_end();
}

void append_echo_payload(std::string& out, const EchoStamp& stamp, std::size_t size) {
    std::size_t start = out.size();
    out += fmt::format("{}{} {} {} ", echo_magic, stamp.sequence, stamp.intended_ns,
                       stamp.sent_ns);
    std::size_t written = out.size() - start;
    if (written < size) out.append(size - written, 'x');
}

std::optional<EchoStamp> parse_echo_payload(std::string_view payload) {
    if (payload.substr(0, echo_magic.size()) != echo_magic) return std::nullopt;
    payload.remove_prefix(echo_magic.size());
    std::string_view fields[3];
    for (auto& field : fields) {
        std::size_t space = payload.find(' ');
        if (space == std::string_view::npos) return std::nullopt;
        field = payload.substr(0, space);
        payload.remove_prefix(space + 1);
    }
    EchoStamp stamp;
    auto [end, error] =
        std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), stamp.sequence);
    if (error != std::errc() || end != fields[0].data() + fields[0].size() || fields[0].empty()) {
        return std::nullopt;
    }
    if (!parse_i64(fields[1], stamp.intended_ns) || !parse_i64(fields[2], stamp.sent_ns)) {
        return std::nullopt;
    }
    return stamp;
}

}  // namespace c10k::bench
