#pragma once
// A small JSON reader, enough to read back what `c10k bench --json` and `c10k compare` write.
// compare runs the load generator as a separate process (see runner.cpp for why) and takes its
// figures from the c10k-bench/1 report; the smoke test reads results.json the same way.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace c10k::compare {

/// One JSON value. Objects keep their keys sorted (std::map); numbers are doubles, which holds
/// every count and microsecond figure the reports carry exactly up to 2^53.
class JsonValue {
public:
    enum class Type { null, boolean, number, string, array, object };

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::null; }
    bool is_object() const { return type_ == Type::object; }
    bool is_array() const { return type_ == Type::array; }

    /// The member `key`, or a null value when absent or when this is not an object, so that
    /// a chain of lookups on a report with a missing part yields defaults rather than crashes.
    const JsonValue& operator[](std::string_view key) const;
    /// Element `index` of an array, or null.
    const JsonValue& at(std::size_t index) const;
    std::size_t size() const;

    double number(double fallback = 0) const { return type_ == Type::number ? number_ : fallback; }
    bool boolean(bool fallback = false) const { return type_ == Type::boolean ? bool_ : fallback; }
    const std::string& string() const { return string_; }
    const std::vector<JsonValue>& items() const { return array_; }
    const std::map<std::string, JsonValue, std::less<>>& members() const { return object_; }

    /// Parses `text`; throws std::runtime_error with the offset of the first problem.
    static JsonValue parse(std::string_view text);

private:
    friend class JsonParser;
    Type type_ = Type::null;
    bool bool_ = false;
    double number_ = 0;
    std::string string_;
    std::vector<JsonValue> array_;
    std::map<std::string, JsonValue, std::less<>> object_;
};

/// `text` as a JSON string literal, quotes included.
using core::json_quote;  // one quoting rule for every report c10k writes

}  // namespace c10k::compare
