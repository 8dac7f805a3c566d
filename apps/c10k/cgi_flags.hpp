#pragma once
// The `c10k serve` flags of CGI (--cgi PREFIX=DIR and the --cgi-* limits), and the handler
// factory that puts the CGI locations in front of the static (or virtual host) handlers.

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/engine.hpp"

namespace c10k::app {

struct CgiFlags {
    std::vector<std::string> locations;  ///< "PREFIX=DIR"
    std::string timeout = "30s";
    std::size_t max_processes = 64;
    std::string queue_timeout = "1s";
    std::size_t max_head_bytes = 16 * 1024;
};

void add_cgi_flags(CLI::App& command, CgiFlags& flags);

/// Handlers that run the CGI locations' programs and give everything else to `inner`; `inner`
/// itself without --cgi. Throws std::runtime_error with what is wrong and how to fix it.
engine::HandlerFactory with_cgi(const CgiFlags& flags, engine::HandlerFactory inner);

}  // namespace c10k::app
