#pragma once
// Loading a TOML config file against a KeyTable: every value checked for its kind and turned
// into the texts its flag would have been given, with the line it came from. Loading has no
// state of its own, so a reload (SIGHUP, later) is the same call again.

#include <string>
#include <string_view>
#include <vector>

#include "config/hosts.hpp"
#include "config/keys.hpp"

namespace c10k::config {

/// One key set in a file, as the texts its flag would take (one per element of a list, "true"
/// or "false" for a boolean).
struct Setting {
    std::string table;
    std::string name;
    std::string flag;
    Kind kind = Kind::string;
    std::vector<std::string> values;
    int line = 0;
    /// For a key of an array of tables ([[pool]]): which element (0, 1, ...) and the line of
    /// its header; -1 and 0 for a key of a plain table.
    int element = -1;
    int element_line = 0;
};

/// What a file said, or why it cannot be used (then it has no settings and no hosts). Errors
/// read "FILE:LINE: [table] key: what is wrong (what is allowed)", "FILE:LINE:COLUMN: TOML
/// syntax error: ..." or "FILE: cannot read ...", in file order; every problem found is
/// reported, not only the first.
struct Loaded {
    std::string path;
    std::vector<Setting> settings;  ///< in file order
    /// The [[host]] tables (config/hosts.hpp), checked in the same pass as the settings; the
    /// serving side takes them from here rather than reading the file again.
    HostsConfig hosts;
    std::vector<std::string> errors;

    bool ok() const { return errors.empty(); }
    /// The errors, one per line.
    std::string error_text() const;
};

/// Reads and checks the file at `path`.
Loaded load(const std::string& path, const KeyTable& table);

/// Checks `text` as if it were the file `path` (which names it in errors only).
Loaded parse(std::string_view text, const std::string& path, const KeyTable& table);

/// "[server] listen": how errors and messages name a key.
std::string key_label(std::string_view table, std::string_view name);

}  // namespace c10k::config
