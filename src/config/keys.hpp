#pragma once
// The table of configuration keys: what a config file may say, of what kind, in which table,
// and which command-line flag each key mirrors. The loader checks files against it and the
// reference in docs/OPERATIONS.md is rendered from it, so the three cannot disagree.
// This layer knows nothing of CLI11: apps/c10k derives the table from its options.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace c10k::config {

/// What a key's value must be. The loader checks the TOML type and, where it can, the value;
/// the flag's own parser checks the rest when the value is applied.
enum class Kind {
    boolean,           ///< true or false (a flag, or an option taking true/false)
    integer,           ///< any integer
    unsigned_integer,  ///< an integer that is not negative
    string,            ///< any string
    duration,          ///< a string core::parse_duration_us accepts: "10s", "250ms", "2m"
    string_list,       ///< an array of strings; the flag is repeated once per element
    number,            ///< an integer or a floating-point number
    size,              ///< bytes: an integer, or a string with k or m ("64k"); the flag checks it
};

/// One key: `[table] name`, mirroring the long flag `--flag`.
struct Key {
    std::string table;
    std::string name;
    Kind kind = Kind::string;
    /// The long flag without its dashes, e.g. "max-connections"; empty for a key no flag
    /// mirrors (what a [[route]] matches), which the command reads from the file itself.
    std::string flag;
    std::string help;
    /// The default as the flag's texts (one per element for a list); empty when there is none
    /// (a key that is off or derived when not set: the help says what then happens).
    std::vector<std::string> default_values;
    bool has_default = false;
};

/// A table of keys, `[name]` in a file, with a sentence for the reference; or, with `array`,
/// an array of such tables, `[[name]]`, each element a table of the same keys (a pool, a route).
struct TableInfo {
    std::string name;
    std::string description;
    bool array = false;
};

/// Every table and key a config file may hold, in the order the reference lists them.
struct KeyTable {
    std::vector<TableInfo> tables;
    std::vector<Key> keys;
    /// Whether [[host]] tables (config/hosts.hpp) may appear: `serve`'s, not `proxy`'s.
    bool allows_hosts = true;

    /// The key `[table] name`, or nullptr.
    const Key* find(std::string_view table, std::string_view name) const;
    /// The table named so, or nullptr.
    const TableInfo* find_table(std::string_view name) const;
    /// The keys of one table, in order.
    std::vector<const Key*> keys_of(std::string_view table) const;
};

/// "an integer", "a duration string such as \"10s\"...": what a value of this kind must be, as
/// the end of the sentence "expected ...".
std::string describe_kind(Kind kind);
/// A short name of the kind for the reference: "integer", "duration", "array of strings".
std::string kind_name(Kind kind);
/// Levenshtein distance, for "did you mean" suggestions on unknown names.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `name`, or "" when none is close enough to be a likely typo.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace c10k::config
