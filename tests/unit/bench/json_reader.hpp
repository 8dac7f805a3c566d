#pragma once
// A small strict JSON reader for tests of the bench's JSON output: objects (duplicate keys are an
// error), arrays, strings with escapes, numbers, literals. Enough to check a schema without a
// JSON library. (report_test.cpp has its own copy from before this header; it could use this.)

#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace c10k::bench::testing {

struct Json;
using JsonObject = std::map<std::string, Json>;
using JsonArray = std::vector<Json>;

struct Json {
    std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>,
                 std::shared_ptr<JsonObject>>
        value;
    bool is_null() const { return std::holds_alternative<std::nullptr_t>(value); }
    bool is_number() const { return std::holds_alternative<double>(value); }
    bool is_string() const { return std::holds_alternative<std::string>(value); }
    bool is_object() const { return std::holds_alternative<std::shared_ptr<JsonObject>>(value); }
    double number() const { return std::get<double>(value); }
    const std::string& string() const { return std::get<std::string>(value); }
    const JsonObject& object() const { return *std::get<std::shared_ptr<JsonObject>>(value); }
    /// The member `key`, or null when this is not an object or has no such member.
    const Json& operator[](const std::string& key) const {
        static const Json missing;
        if (!is_object()) return missing;
        auto it = object().find(key);
        return it == object().end() ? missing : it->second;
    }
    bool has(const std::string& key) const { return is_object() && object().count(key) != 0; }
};

class JsonReader {
public:
    explicit JsonReader(const std::string& text) : text_(text) {}
    /// The whole text must be one value.
    bool parse(Json& out) {
        if (!value(out)) return false;
        skip();
        return pos_ == text_.size();
    }

private:
    void skip() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    bool peek(char c) {
        skip();
        return pos_ < text_.size() && text_[pos_] == c;
    }
    bool expect(char c) {
        if (!peek(c)) return false;
        ++pos_;
        return true;
    }
    bool string(std::string& out) {
        if (!expect('"')) return false;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            char c = text_[pos_++];
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= text_.size()) return false;
            char escaped = text_[pos_++];
            if (escaped == 'u') {
                if (pos_ + 4 > text_.size()) return false;
                pos_ += 4;
                out += '?';
            } else if (std::string("\"\\/bfnrt").find(escaped) != std::string::npos) {
                out += escaped;
            } else {
                return false;
            }
        }
        return expect('"');
    }
    bool value(Json& out) {
        skip();
        if (pos_ >= text_.size()) return false;
        if (expect('{')) {
            auto object = std::make_shared<JsonObject>();
            if (!expect('}')) {
                do {
                    std::string key;
                    Json member;
                    if (!string(key) || !expect(':') || !value(member)) return false;
                    if (!object->emplace(key, member).second) return false;
                } while (expect(','));
                if (!expect('}')) return false;
            }
            out.value = object;
            return true;
        }
        if (expect('[')) {
            auto array = std::make_shared<JsonArray>();
            if (!expect(']')) {
                do {
                    Json element;
                    if (!value(element)) return false;
                    array->push_back(element);
                } while (expect(','));
                if (!expect(']')) return false;
            }
            out.value = array;
            return true;
        }
        if (peek('"')) {
            std::string text;
            if (!string(text)) return false;
            out.value = text;
            return true;
        }
        for (auto [word, literal] : {std::pair<const char*, Json>{"null", Json{nullptr}},
                                     {"true", Json{true}},
                                     {"false", Json{false}}}) {
            std::string w(word);
            if (text_.compare(pos_, w.size(), w) == 0) {
                pos_ += w.size();
                out = literal;
                return true;
            }
        }
        std::size_t start = pos_;
        if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
        while (pos_ < text_.size() &&
               (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
                std::string(".eE+-").find(text_[pos_]) != std::string::npos)) {
            ++pos_;
        }
        if (pos_ == start) return false;
        try {
            out.value = std::stod(text_.substr(start, pos_ - start));
        } catch (...) {
            return false;
        }
        return true;
    }

    const std::string& text_;
    std::size_t pos_ = 0;
};

}  // namespace c10k::bench::testing
