#pragma once
// Subcommands register themselves here, one *_command.cpp file each, so that adding a command
// touches no other file.

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace c10k::app {

/// Adds a subcommand to the top-level app; called once from main() before parsing.
using CommandSetup = std::function<void(CLI::App& app)>;

std::vector<CommandSetup>& command_registry();

/// `static const CommandRegistrar registrar{[](CLI::App& app) { ... }};` in a command's file.
struct CommandRegistrar {
    explicit CommandRegistrar(CommandSetup setup) {
        command_registry().push_back(std::move(setup));
    }
};

}  // namespace c10k::app
