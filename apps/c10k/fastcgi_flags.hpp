#pragma once
// The `c10k serve` flags of FastCGI (--fastcgi PREFIX=ADDRESS and the --fastcgi-* limits), and
// the handler factory that puts the FastCGI locations in front of the others.

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/engine.hpp"

namespace c10k::app {

struct FastcgiFlags {
    std::vector<std::string> locations;  ///< "PREFIX=ADDRESS"
    std::vector<std::string> extensions = {".php"};
    std::string timeout = "60s";
    std::size_t max_connections = 64;
    std::size_t max_head_bytes = 16 * 1024;
    std::string temp_dir;  ///< empty: $TMPDIR, else /tmp
};

void add_fastcgi_flags(CLI::App& command, FastcgiFlags& flags);

/// Handlers that send the FastCGI locations' requests to their applications, scripts found
/// beneath `root`, and give everything else to `inner`; `inner` itself without --fastcgi.
/// Throws std::runtime_error with what is wrong and how to fix it.
engine::HandlerFactory with_fastcgi(const FastcgiFlags& flags, const std::string& root,
                                    engine::HandlerFactory inner);

}  // namespace c10k::app
