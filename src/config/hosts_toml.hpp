#pragma once
// The part of hosts.cpp that the loader (load.cpp) calls on the document it has already parsed.
// Kept out of hosts.hpp so that the users of the data (the serving side) need not see toml++.

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config/hosts.hpp"

namespace c10k::config {

/// A problem found in the file: the line it is on (to put errors in file order) and the whole
/// message, "FILE:LINE: ...".
struct LineError {
    int line = 0;
    std::string text;
};

/// "a string", "an integer", "an array of tables"...: what a value is, for "expected X, got Y"
/// (defined in load.cpp, shared by both readers).
std::string describe_toml_type(const toml::node& node);

/// Reads `node`, the value of the top-level key "host" written at `line`, into `config`, and
/// appends every problem found to `errors` (not in file order: toml++ keeps a table's keys
/// sorted by name). `path` names the file in the messages.
void read_hosts(const toml::node& node, int line, const std::string& path, HostsConfig& config,
                std::vector<LineError>& errors);

}  // namespace c10k::config
