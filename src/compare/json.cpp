#include "compare/json.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/core.h>

namespace c10k::compare {

namespace {

const Json kNull;

[[noreturn]] void wrong_type(std::string_view key, const Json& value, const char* expected) {
    throw std::runtime_error(
        fmt::format("JSON: \"{}\" is a {}, expected a {}", key, value.type_name(), expected));
}

}  // namespace

Json parse_json(std::string_view text) {
    try {
        return Json::parse(text);
    } catch (const Json::parse_error& e) {
        // nlohmann's message already says where ("at line 3, column 7") and what it expected.
        throw std::runtime_error(fmt::format("JSON: {}", e.what()));
    }
}

std::string dump_json(const Json& document) {
    return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

const Json& member(const Json& object, std::string_view key) {
    if (!object.is_object()) return kNull;
    auto found = object.find(key);
    return found == object.end() ? kNull : *found;
}

double number_at(const Json& object, std::string_view key, double fallback) {
    const Json& value = member(object, key);
    if (value.is_null()) return fallback;
    if (!value.is_number()) wrong_type(key, value, "number");
    return value.get<double>();
}

std::uint64_t count_at(const Json& object, std::string_view key) {
    const Json& value = member(object, key);
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    double number = number_at(object, key);
    return number > 0 ? static_cast<std::uint64_t>(std::llround(number)) : 0;
}

std::string string_at(const Json& object, std::string_view key) {
    const Json& value = member(object, key);
    if (value.is_null()) return {};
    if (!value.is_string()) wrong_type(key, value, "string");
    return value.get<std::string>();
}

bool boolean_at(const Json& object, std::string_view key, bool fallback) {
    const Json& value = member(object, key);
    if (value.is_null()) return fallback;
    if (!value.is_boolean()) wrong_type(key, value, "boolean");
    return value.get<bool>();
}

double rounded(double value, int decimals) {
    double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

}  // namespace c10k::compare
