#include "config/reference.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace c10k::config {

namespace {

std::string quoted(const std::string& text) {
    std::string result = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') result += '\\';
        result += c;
    }
    return result + "\"";
}

/// A Markdown table cell: a '|' would end it early.
std::string cell(const std::string& text) {
    std::string result;
    for (char c : text) {
        if (c == '|') result += '\\';
        result += c;
    }
    return result;
}

}  // namespace

std::string default_literal(const Key& key) {
    if (!key.has_default) return "";
    switch (key.kind) {
        case Kind::boolean:
        case Kind::integer:
        case Kind::unsigned_integer:
        case Kind::number:
        case Kind::size:
            return key.default_values.empty() ? "" : key.default_values.front();
        case Kind::string:
        case Kind::duration:
            return quoted(key.default_values.empty() ? "" : key.default_values.front());
        case Kind::string_list: {
            std::string text = "[";
            for (const std::string& value : key.default_values) {
                if (text.size() > 1) text += ", ";
                text += quoted(value);
            }
            return text + "]";
        }
    }
    return "";
}

std::string render_reference(const KeyTable& table, std::string_view command) {
    std::string text = fmt::format(
        "Every key mirrors the `c10k {}` flag named beside it and takes the same values; a "
        "flag given on the command line wins over the file. A key left out keeps the flag's "
        "default. Durations are strings such as \"250ms\", \"10s\", \"2m\" or \"1h\".\n",
        command);
    if (std::any_of(table.keys.begin(), table.keys.end(),
                    [](const Key& key) { return key.kind == Kind::size; })) {
        text += "Sizes are a number of bytes, or a string with k or m such as \"64k\".\n";
    }
    bool flagless = std::any_of(table.keys.begin(), table.keys.end(),
                                [](const Key& key) { return key.flag.empty(); });
    if (flagless) {
        text +=
            "Keys whose flag is \"none\" exist in files only: they describe what a flag "
            "cannot, such as named pools and routes.\n";
    }
    for (const TableInfo& info : table.tables) {
        text += info.array ? fmt::format("\n### [[{}]]\n\n", info.name)
                           : fmt::format("\n### [{}]\n\n", info.name);
        if (!info.description.empty()) text += info.description + "\n\n";
        text += "| key | type | default | flag | what it does |\n";
        text += "| --- | --- | --- | --- | --- |\n";
        for (const Key* key : table.keys_of(info.name)) {
            std::string literal = default_literal(*key);
            text +=
                fmt::format("| `{}` | {} | {} | {} | {} |\n", key->name, kind_name(key->kind),
                            literal.empty() ? "unset" : "`" + cell(literal) + "`",
                            key->flag.empty() ? "none" : "`--" + key->flag + "`", cell(key->help));
        }
    }
    return text;
}

}  // namespace c10k::config
