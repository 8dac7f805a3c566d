// `c10k engines`: which concurrency engines exist and which work on this machine.

#include <cstdio>

#include "commands.hpp"
#include "engine/engine.hpp"

namespace c10k::app {

static const CommandRegistrar registrar{[](CLI::App& app) {
    CLI::App* cmd =
        app.add_subcommand("engines", "List the concurrency engines and whether they work here");
    cmd->callback([] {
        for (const auto& info : engine::all_engines()) {
            if (info.available) {
                std::printf("%-10s yes  %s\n", info.name.c_str(), info.description.c_str());
            } else {
                std::printf("%-10s no   %s (%s)\n", info.name.c_str(), info.description.c_str(),
                            info.unavailable_reason.c_str());
            }
        }
    });
}};

}  // namespace c10k::app
