#include "config/keys.hpp"

#include <algorithm>

namespace c10k::config {

const Key* KeyTable::find(std::string_view table, std::string_view name) const {
    for (const Key& key : keys) {
        if (key.table == table && key.name == name) return &key;
    }
    return nullptr;
}

const TableInfo* KeyTable::find_table(std::string_view name) const {
    for (const TableInfo& info : tables) {
        if (info.name == name) return &info;
    }
    return nullptr;
}

std::vector<const Key*> KeyTable::keys_of(std::string_view table) const {
    std::vector<const Key*> result;
    for (const Key& key : keys) {
        if (key.table == table) result.push_back(&key);
    }
    return result;
}

std::string describe_kind(Kind kind) {
    switch (kind) {
        case Kind::boolean:
            return "true or false";
        case Kind::integer:
            return "an integer";
        case Kind::unsigned_integer:
            return "an integer of 0 or more";
        case Kind::string:
            return "a string";
        case Kind::duration:
            return "a duration string such as \"10s\", \"250ms\" or \"2m\"";
        case Kind::size:
            return "a number of bytes, or a string such as \"64k\" or \"4m\"";
        case Kind::string_list:
            return "an array of strings, e.g. [\"a\", \"b\"]";
        case Kind::number:
            return "a number";
    }
    return "a value";
}

std::string kind_name(Kind kind) {
    switch (kind) {
        case Kind::boolean:
            return "boolean";
        case Kind::integer:
            return "integer";
        case Kind::unsigned_integer:
            return "integer >= 0";
        case Kind::string:
            return "string";
        case Kind::duration:
            return "duration";
        case Kind::size:
            return "size";
        case Kind::string_list:
            return "array of strings";
        case Kind::number:
            return "number";
    }
    return "value";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // One row of the classic dynamic programme: names are short, so this costs nothing.
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
    // A third of the name's length (at least 2) separates a typo from a different word.
    std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (const std::string& candidate : candidates) {
        std::size_t distance = edit_distance(name, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

}  // namespace c10k::config
