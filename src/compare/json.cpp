#include "compare/json.hpp"

#include <cstdlib>
#include <stdexcept>

#include <fmt/core.h>

namespace c10k::compare {

namespace {
const JsonValue kNull;
}  // namespace

/// Recursive descent over the text; depth is bounded so a hostile file cannot blow the stack.
class JsonParser {
public:
    explicit JsonParser(std::string_view text) : text_(text) {}

    JsonValue parse_document() {
        JsonValue value = parse_value(0);
        skip_space();
        if (pos_ != text_.size()) fail("trailing characters");
        return value;
    }

private:
    [[noreturn]] void fail(const char* what) const {
        throw std::runtime_error(fmt::format("JSON: {} at offset {}", what, pos_));
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                       text_[pos_] == '\r' || text_[pos_] == '\t')) {
            ++pos_;
        }
    }

    bool take(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    JsonValue parse_value(int depth) {
        if (depth > 64) fail("nesting too deep");
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end");
        JsonValue value;
        char c = text_[pos_];
        if (c == '{') {
            value.type_ = JsonValue::Type::object;
            ++pos_;
            skip_space();
            if (take("}")) return value;
            while (true) {
                skip_space();
                std::string key = parse_string();
                skip_space();
                if (!take(":")) fail("expected ':'");
                value.object_[key] = parse_value(depth + 1);
                skip_space();
                if (take("}")) return value;
                if (!take(",")) fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            value.type_ = JsonValue::Type::array;
            ++pos_;
            skip_space();
            if (take("]")) return value;
            while (true) {
                value.array_.push_back(parse_value(depth + 1));
                skip_space();
                if (take("]")) return value;
                if (!take(",")) fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            value.type_ = JsonValue::Type::string;
            value.string_ = parse_string();
            return value;
        }
        if (take("true") || take("false")) {
            value.type_ = JsonValue::Type::boolean;
            value.bool_ = text_[pos_ - 1] == 'e' && text_[pos_ - 2] == 'u';
            return value;
        }
        if (take("null")) return value;
        // A number: strtod on a bounded copy (the view is not NUL-terminated).
        std::size_t end = pos_;
        while (end < text_.size() && std::string_view("+-0123456789.eE").find(text_[end]) !=
                                         std::string_view::npos) {
            ++end;
        }
        if (end == pos_) fail("unexpected character");
        std::string digits(text_.substr(pos_, end - pos_));
        char* stop = nullptr;
        value.number_ = std::strtod(digits.c_str(), &stop);
        if (stop != digits.c_str() + digits.size()) fail("bad number");
        value.type_ = JsonValue::Type::number;
        pos_ = end;
        return value;
    }

    std::string parse_string() {
        if (!take("\"")) fail("expected a string");
        std::string out;
        while (pos_ < text_.size()) {
            char c = text_[pos_++];
            if (c == '"') return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) break;
            char escape = text_[pos_++];
            switch (escape) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': {
                    if (pos_ + 4 > text_.size()) fail("short \\u escape");
                    unsigned code = std::stoul(std::string(text_.substr(pos_, 4)), nullptr, 16);
                    pos_ += 4;
                    // Only what our own writers emit (control characters) needs to round-trip;
                    // other code points are written as UTF-8 without surrogate pairing.
                    if (code < 0x80) {
                        out += static_cast<char>(code);
                    } else if (code < 0x800) {
                        out += static_cast<char>(0xC0 | (code >> 6));
                        out += static_cast<char>(0x80 | (code & 0x3F));
                    } else {
                        out += static_cast<char>(0xE0 | (code >> 12));
                        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
                        out += static_cast<char>(0x80 | (code & 0x3F));
                    }
                    break;
                }
                default: out += escape; break;  // \" \\ \/
            }
        }
        fail("unterminated string");
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

const JsonValue& JsonValue::operator[](std::string_view key) const {
    if (type_ != Type::object) return kNull;
    auto found = object_.find(key);
    return found == object_.end() ? kNull : found->second;
}

const JsonValue& JsonValue::at(std::size_t index) const {
    return type_ == Type::array && index < array_.size() ? array_[index] : kNull;
}

std::size_t JsonValue::size() const {
    if (type_ == Type::array) return array_.size();
    if (type_ == Type::object) return object_.size();
    return 0;
}

JsonValue JsonValue::parse(std::string_view text) { return JsonParser(text).parse_document(); }

}  // namespace c10k::compare
