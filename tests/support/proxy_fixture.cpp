#include "support/proxy_fixture.hpp"

#include <gtest/gtest.h>

#include "support/http_client.hpp"

namespace c10k::test {

Backend::Backend(const std::string& id, const std::string& keepalive) {
    dir.write("id.txt", id);
    server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"serve", "--root", dir.path(), "--listen", "127.0.0.1:0",
                                 "--threads", "1", "--keepalive-timeout", keepalive});
}

std::unique_ptr<ServerProcess> start_proxy(const std::vector<std::string>& backends,
                                           std::vector<std::string> extra) {
    std::vector<std::string> args{"proxy", "--listen", "127.0.0.1:0", "--threads", "1"};
    for (const auto& backend : backends) {
        args.push_back("--backend");
        args.push_back(backend);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ServerProcess>(args);
}

std::unique_ptr<ServerProcess> start_tcp_proxy(const std::vector<std::string>& backends,
                                               const std::vector<std::string>& extra,
                                               int threads) {
    std::vector<std::string> args{
        "proxy", "--mode", "tcp", "--listen", "127.0.0.1:0", "--threads", std::to_string(threads)};
    for (const auto& backend : backends) {
        args.push_back("--backend");
        args.push_back(backend);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ServerProcess>(args);
}

std::map<std::string, int> tally(int port, const std::string& path, int count) {
    std::map<std::string, int> seen;
    HttpClient client(port);
    for (int i = 0; i < count; ++i) {
        client.send_get(path);
        HttpResponse response;
        EXPECT_TRUE(client.read_response(response)) << client.error();
        EXPECT_EQ(response.status, 200) << response.body;
        ++seen[response.body];
    }
    return seen;
}

}  // namespace c10k::test
