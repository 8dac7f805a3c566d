// c10k: one binary, several subcommands (serve, bench, engines, compare). Each lives in its own
// *_command.cpp; main only assembles them and turns start-up exceptions into clear messages.

#include <cstdio>
#include <exception>

#include "commands.hpp"

namespace c10k::app {

std::vector<CommandSetup>& command_registry() {
    static std::vector<CommandSetup> registry;
    return registry;
}

}  // namespace c10k::app

int main(int argc, char** argv) {
    CLI::App app{"c10k: serve very many concurrent HTTP clients from one machine, and measure it"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "c10k " C10K_VERSION);
    for (auto& setup : c10k::app::command_registry()) setup(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "c10k: %s\n", e.what());
        return 1;
    }
    return 0;
}
