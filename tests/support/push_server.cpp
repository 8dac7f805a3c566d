#include "support/push_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace c10k::test {

const std::vector<std::string> kPushEngines = {"epoll",  "epoll-lt", "poll",  "thread",
                                               "select", "sigio",    "uring", "staged"};

std::string engine_param_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (char& c : name) {
        if (c == '-') c = '_';
    }
    return name;
}

PushServer::PushServer(const std::string& engine, std::vector<std::string> extra, int threads) {
    std::vector<std::string> args = {"serve",
                                     "--root",
                                     site.path(),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--publish-listen",
                                     "127.0.0.1:0",
                                     "--engine",
                                     engine,
                                     "--threads",
                                     std::to_string(threads),
                                     "--push",
                                     "/live/"};
    args.insert(args.end(), extra.begin(), extra.end());
    site.write("index.html", "home\n");
    server = std::make_unique<ServerProcess>(args);
    port = server->port();
    pub = publish_port(*server);
}

std::string PushServer::publish(const std::string& channel, const std::string& body,
                                const std::string& headers) {
    HttpResponse r = request(pub, "POST", "/pub/" + channel, body, headers);
    EXPECT_EQ(r.status, 200) << r.body;
    auto at = r.body.find("\"id\":\"");
    if (at == std::string::npos) return {};
    at += 6;
    return r.body.substr(at, r.body.find('"', at) - at);
}

bool PushServer::subscribers_are(const std::string& channel, int n) {
    std::string wanted = "\"subscribers\":" + std::to_string(n) + ",";
    for (int i = 0; i < 100; ++i) {
        HttpResponse info = request(pub, "GET", "/pub/" + channel);
        if (info.body.find(wanted) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

void PushServer::wait_for_group() {
    HttpResponse probe = request(pub, "GET", "/pub/no-such-channel");
    EXPECT_EQ(probe.status, 404);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
}

}  // namespace c10k::test
