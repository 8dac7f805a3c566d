#pragma once
// The admin listener of a server under test: its port, from the server's start-up line, and
// /metrics parsed as Prometheus text.

#include <map>
#include <string>

#include "support/server_process.hpp"

namespace c10k::test {

/// The admin port from the line "c10k: metrics on http://HOST:PORT/metrics" (waits up to 10 s;
/// throws when it never comes).
int admin_port(ServerProcess& server);

/// /metrics of the admin listener on `port`: each sample's name with its labels, as written
/// ("c10k_requests_total{engine=\"epoll\",status=\"200\"}"), to its value. A line that is not
/// Prometheus text fails the test.
std::map<std::string, double> scrape(int port);

}  // namespace c10k::test
