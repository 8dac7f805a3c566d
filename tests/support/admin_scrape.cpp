#include "support/admin_scrape.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/http_client.hpp"

namespace c10k::test {

int admin_port(ServerProcess& server) {
    static const std::regex line(R"(metrics on http://[^ /]+:([0-9]+)/metrics)");
    for (int i = 0; i < 100; ++i) {
        std::string output = server.output();
        std::smatch match;
        if (std::regex_search(output, match, line)) return std::stoi(match[1].str());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("no metrics line in the server's output:\n" + server.output());
}

/// Sample (name with labels) -> value; a line that is not a comment or a sample fails the test.
std::map<std::string, double> scrape(int port) {
    HttpResponse r = fetch(port, "/metrics");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
    std::map<std::string, double> samples;
    static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+)$)");
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::smatch m;
        if (!std::regex_match(line, m, sample)) {
            ADD_FAILURE() << "not Prometheus text: " << line;
            continue;
        }
        samples[m[1]] = std::stod(m[3]);
    }
    return samples;
}

}  // namespace c10k::test
