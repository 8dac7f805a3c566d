#pragma once
// A small JSON reader for tests: enough to check that a message parses and to read its fields
// (the demo's score JSON, Chrome DevTools Protocol replies). Header-only, so that unit tests,
// which do not link the test-support library, can use it too. Strict: trailing bytes, bad
// escapes, leading zeros and unescaped control characters are errors.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace c10k::test {

/// One JSON value. Objects keep their members sorted by name (duplicates: the last one wins).
struct JsonValue {
    enum class Kind { null, boolean, number, string, array, object };
    Kind kind = Kind::null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<JsonValue> array;
    std::map<std::string, JsonValue, std::less<>> object;

    bool is_null() const { return kind == Kind::null; }
    bool is_number() const { return kind == Kind::number; }
    bool is_string() const { return kind == Kind::string; }
    bool is_array() const { return kind == Kind::array; }
    bool is_object() const { return kind == Kind::object; }

    /// The member `name` of an object, or nullptr (also when this is not an object).
    const JsonValue* find(std::string_view name) const {
        if (kind != Kind::object) return nullptr;
        auto it = object.find(name);
        return it == object.end() ? nullptr : &it->second;
    }
    /// The member `name`, or a null value when absent: for chained look-ups in tests.
    const JsonValue& operator[](std::string_view name) const {
        static const JsonValue null_value;
        const JsonValue* member = find(name);
        return member ? *member : null_value;
    }
    /// The number as an integer (truncated); 0 when not a number.
    std::int64_t integer() const { return is_number() ? static_cast<std::int64_t>(number) : 0; }
};

namespace json_detail {

class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    std::optional<JsonValue> document() {
        JsonValue value;
        if (!parse_value(value, 0)) return std::nullopt;
        skip_space();
        if (pos_ != text_.size()) return std::nullopt;
        return value;
    }

private:
    // Deep enough for any message a test reads; bounded so that hostile input cannot overflow
    // the stack.
    static constexpr int max_depth = 64;

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\n' || text_[pos_] == '\r')) {
            ++pos_;
        }
    }
    bool consume(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    bool parse_value(JsonValue& out, int depth) {
        if (depth > max_depth) return false;
        skip_space();
        if (pos_ >= text_.size()) return false;
        char c = text_[pos_];
        if (c == '{') return parse_object(out, depth);
        if (c == '[') return parse_array(out, depth);
        if (c == '"') {
            out.kind = JsonValue::Kind::string;
            return parse_string(out.string);
        }
        if (consume("true")) {
            out.kind = JsonValue::Kind::boolean;
            out.boolean = true;
            return true;
        }
        if (consume("false")) {
            out.kind = JsonValue::Kind::boolean;
            return true;
        }
        if (consume("null")) return true;
        return parse_number(out);
    }

    bool parse_object(JsonValue& out, int depth) {
        out.kind = JsonValue::Kind::object;
        ++pos_;  // '{'
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '}') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_space();
            std::string name;
            if (pos_ >= text_.size() || text_[pos_] != '"' || !parse_string(name)) return false;
            skip_space();
            if (pos_ >= text_.size() || text_[pos_++] != ':') return false;
            JsonValue member;
            if (!parse_value(member, depth + 1)) return false;
            out.object[name] = std::move(member);
            skip_space();
            if (pos_ >= text_.size()) return false;
            char c = text_[pos_++];
            if (c == '}') return true;
            if (c != ',') return false;
        }
    }

    bool parse_array(JsonValue& out, int depth) {
        out.kind = JsonValue::Kind::array;
        ++pos_;  // '['
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ']') {
            ++pos_;
            return true;
        }
        for (;;) {
            JsonValue element;
            if (!parse_value(element, depth + 1)) return false;
            out.array.push_back(std::move(element));
            skip_space();
            if (pos_ >= text_.size()) return false;
            char c = text_[pos_++];
            if (c == ']') return true;
            if (c != ',') return false;
        }
    }

    bool parse_number(JsonValue& out) {
        std::size_t start = pos_;
        auto digits = [&] {
            std::size_t first = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
            return pos_ - first;
        };
        if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
        std::size_t int_start = pos_;
        std::size_t int_digits = digits();
        if (int_digits == 0 || (int_digits > 1 && text_[int_start] == '0')) return false;
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            if (digits() == 0) return false;
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
            if (digits() == 0) return false;
        }
        out.kind = JsonValue::Kind::number;
        out.number = std::strtod(std::string(text_.substr(start, pos_ - start)).c_str(), nullptr);
        return true;
    }

    bool parse_hex4(unsigned& out) {
        if (pos_ + 4 > text_.size()) return false;
        out = 0;
        for (int i = 0; i < 4; ++i) {
            char c = text_[pos_++];
            out <<= 4;
            if (c >= '0' && c <= '9') {
                out |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                out |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                out |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                return false;
            }
        }
        return true;
    }

    static void append_utf8(std::string& out, unsigned code) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xc0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3f));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xe0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (code & 0x3f));
        }
    }

    bool parse_string(std::string& out) {
        ++pos_;  // opening quote
        while (pos_ < text_.size()) {
            char c = text_[pos_++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) return false;
            char escape = text_[pos_++];
            switch (escape) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    unsigned code = 0;
                    if (!parse_hex4(code)) return false;
                    // A high surrogate must be followed by an escaped low one.
                    if (code >= 0xd800 && code < 0xdc00) {
                        unsigned low = 0;
                        if (!consume("\\u") || !parse_hex4(low) || low < 0xdc00 || low > 0xdfff) {
                            return false;
                        }
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                    } else if (code >= 0xdc00 && code < 0xe000) {
                        return false;
                    }
                    append_utf8(out, code);
                    break;
                }
                default:
                    return false;
            }
        }
        return false;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace json_detail

/// Parses one JSON document; nullopt when it is not exactly one valid value.
inline std::optional<JsonValue> parse_json(std::string_view text) {
    return json_detail::Reader(text).document();
}

/// `text` as a JSON string literal (quotes included), for building requests in tests.
inline std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static const char hex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += hex[(c >> 4) & 0xf];
                    out += hex[c & 0xf];
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

}  // namespace c10k::test
