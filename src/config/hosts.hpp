#pragma once
// Virtual hosts and locations in a config file, as an nginx user writes `server { server_name
// ...; location /prefix/ { root ...; } }`:
//
//     [[host]]
//     names = ["example.com", "*.example.org"]
//     root = "/srv/example"
//     [[host.location]]
//     path = "/downloads/"
//     root = "/srv/files"
//
// This is the data alone, checked for what can be checked without touching the system (types,
// unknown keys, names, paths, duplicates); whether a root can be opened and what serves a
// request are the serving side's business (serve/host_router.hpp, apps/c10k/vhost_flags.hpp).
// The loader reads these tables in the same pass as the rest of the file (config/load.hpp,
// Loaded::hosts), so that a file is parsed, and its errors reported, once.

#include <string>
#include <string_view>
#include <vector>

namespace c10k::config {

/// `[[host.location]]`: what serves the requests whose path starts with `path`.
struct LocationConfig {
    /// The path prefix, starting with '/'; the longest prefix that matches a request wins.
    std::string path;
    /// Static files from this directory, the request's whole path beneath it (as nginx's
    /// `root`, not `alias`). Empty when the location is a push location.
    std::string root;
    /// The request goes on to the server's own handlers (push channels, WebSocket, [server]
    /// root) rather than to a root of its own.
    bool push = false;
    int line = 0;       ///< of the [[host.location]] header
    int root_line = 0;  ///< of `root`, for errors found when it is opened; 0 when not set
    int push_line = 0;  ///< of `push`; 0 when not set
};

/// `[[host]]`: the requests whose Host header is one of `names`.
struct HostConfig {
    /// Lowercase. Either an exact name ("example.com", "127.0.0.1", "[::1]") or a leading
    /// wildcard ("*.example.org": any name ending in ".example.org", not example.org itself).
    std::vector<std::string> names;
    /// Static files for this host's requests that no location takes; empty: the server's own
    /// handlers ([server] root, push, WebSocket), as without hosts.
    std::string root;
    /// The host for requests whose Host matches no name (or that have none).
    bool is_default = false;
    std::vector<LocationConfig> locations;  ///< in file order
    int line = 0;                           ///< of the [[host]] header
    int root_line = 0;                      ///< of `root`; 0 when not set
};

/// Every [[host]] of a file, in file order. Empty when the file has none: then requests are
/// served as they were before hosts existed.
struct HostsConfig {
    std::vector<HostConfig> hosts;

    bool empty() const { return hosts.empty(); }
    /// The host for requests no name matches: the one marked default, else the first.
    std::size_t default_index() const;
};

/// The key that holds the hosts at the top of a file: `[[host]]`.
inline constexpr std::string_view kHostsKey = "host";

}  // namespace c10k::config
