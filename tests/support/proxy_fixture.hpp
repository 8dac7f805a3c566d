#pragma once
// What the proxy's end-to-end suites share: real `c10k serve` backends that name themselves,
// a `c10k proxy` in front of them, and a tally of which backend answered.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace c10k::test {

/// A `c10k serve` backend on a port of its own whose /id.txt names it.
struct Backend {
    TempDir dir;
    std::unique_ptr<ServerProcess> server;
    explicit Backend(const std::string& id, const std::string& keepalive = "60s");
    std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }
};

/// `c10k proxy --listen 127.0.0.1:0 --threads 1 --backend B...` plus `extra`.
std::unique_ptr<ServerProcess> start_proxy(const std::vector<std::string>& backends,
                                           std::vector<std::string> extra = {});

/// `c10k proxy --mode tcp --listen 127.0.0.1:0 --threads N --backend B...` plus `extra`.
std::unique_ptr<ServerProcess> start_tcp_proxy(const std::vector<std::string>& backends,
                                               const std::vector<std::string>& extra = {},
                                               int threads = 1);

/// GETs `path` `count` times on one keep-alive connection and counts the bodies (each answer
/// is expected to be 200).
std::map<std::string, int> tally(int port, const std::string& path, int count);

}  // namespace c10k::test
