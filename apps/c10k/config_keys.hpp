#pragma once
// `c10k serve --config FILE`: the config keys of serve's options, derived from the CLI11
// options themselves (so a new flag has its key without a second list to keep), and a file's
// settings applied to the options the command line did not give.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/hosts.hpp"
#include "config/keys.hpp"
#include "config/load.hpp"

namespace c10k::app {

/// Where an option's key lives in a config file.
struct KeyPlace {
    std::string table;
    std::string name;
};

/// The key of the long flag `flag` (without dashes), by rule: --push is [push] prefixes,
/// --publish-X, --push-X, --demo and --demo-interval are [push], --redis is [redis] url and
/// --redis-X [redis] X, --ws-X [websocket] X, the rest [server], all in snake_case. Nothing
/// for the options that say what serve does rather than how it serves (--help, --config...).
std::optional<KeyPlace> key_place(std::string_view flag);

/// A long flag's name as a config key: "max-connections" -> "max_connections".
std::string snake_case(std::string_view flag);

/// One key per option of `serve`. The kind comes from the option: a flag is a boolean, an
/// option taking several values an array of strings, and the type names BOOLEAN, INT, UINT,
/// TEXT and DURATION the rest. Throws std::logic_error naming an option whose kind cannot be
/// derived or whose key another option already has: a programming error to fix with the flag.
config::KeyTable serve_key_table(const CLI::App& serve);

/// The key of one option, placed at `place`, its kind derived as for serve_key_table.
config::Key key_of_option(const CLI::Option& option, const std::string& flag,
                          const KeyPlace& place);

/// Appends a key for each long option of `command` that `place_of` places (nullopt: none).
/// Throws std::logic_error when two options land on one key.
void add_option_keys(
    const CLI::App& command, config::KeyTable& table,
    const std::function<std::optional<KeyPlace>(const CLI::Option&, const std::string&)>& place_of);

/// Where a value applied from a config file came from, for messages about that value.
struct ConfigOrigin {
    std::string path;
    int line = 0;
    std::string label;  ///< "[server] listen"
};
/// By long flag (without dashes).
using ConfigOrigins = std::map<std::string, ConfigOrigin>;

/// What a config file gave besides the options it set.
struct AppliedConfig {
    ConfigOrigins origins;
    /// The file's [[host]] tables, checked with the rest of it; empty when it has none. The
    /// file is read once, so what serves the hosts is what was checked (vhost_flags.hpp).
    config::HostsConfig hosts;
    /// The settings of arrays of tables ([[pool]], [[route]]) and of keys no flag mirrors, in
    /// file order: the command turns them into what they describe.
    std::vector<config::Setting> elements;
};

/// Loads `path` and hands each setting to its option, unless the command line gave that option
/// (flags override the file), as if it had been given as a flag: the option's own conversion
/// runs. Throws std::runtime_error with every error found, one per line, "FILE:LINE: ...",
/// those of the [[host]] tables among them. Keeps no state: loading again into a freshly built
/// command is a reload.
AppliedConfig apply_config_file(CLI::App& command, const std::string& path,
                                const config::KeyTable& table);

/// Gives `option` the setting's values as if they had been typed as flags, so the option's own
/// conversion runs. False, with "FILE:LINE: LABEL: cannot take VALUES (why)" appended to
/// `errors` (a line each), when it refuses them.
bool apply_setting(CLI::Option& option, const config::Setting& setting, std::string_view label,
                   const std::string& path, std::string& errors);

/// `message` with "FILE:LINE: [table] key: " before it when it starts with a flag ("--engine
/// ...") whose value came from the file, so that later checks name the file's line too.
std::string with_origin(const std::string& message, const ConfigOrigins& origins);

}  // namespace c10k::app
