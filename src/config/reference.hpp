#pragma once
// The configuration reference in Markdown, rendered from the KeyTable itself, so that
// docs/OPERATIONS.md (which holds a copy, checked by a test) says what the code accepts.

#include <string>
#include <string_view>

#include "config/keys.hpp"

namespace c10k::config {

/// A key's default as TOML would write it ("10s" quoted, ["a"], 100, true), or "" when the
/// key has none.
std::string default_literal(const Key& key);

/// One section per table, each a Markdown table of its keys: name, kind, default, the flag it
/// mirrors and what it does. Ends with a newline.
/// `command` names the command whose flags the keys mirror ("serve", "proxy").
std::string render_reference(const KeyTable& table, std::string_view command = "serve");

}  // namespace c10k::config
