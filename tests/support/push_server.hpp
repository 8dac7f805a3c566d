#pragma once
// `c10k serve --push /live/` started for a test on 127.0.0.1 (ephemeral public and publish
// ports), with the publish API at hand.

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/push_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {

/// The engines that hold push subscribers and WebSocket sessions.
extern const std::vector<std::string> kPushEngines;
/// A test-name suffix for an engine parameter ("epoll-lt" -> "epoll_lt").
std::string engine_param_name(const ::testing::TestParamInfo<std::string>& info);

struct PushServer {
    explicit PushServer(const std::string& engine, std::vector<std::string> extra = {},
                        int threads = 1);
    /// Publishes and returns the id the server assigned.
    std::string publish(const std::string& channel, const std::string& body,
                        const std::string& headers = {});
    /// Waits (bounded) until the channel counts `n` subscribers: a subscription is counted when
    /// the server has handled its request, which another thread or process may do after the
    /// client sent it.
    bool subscribers_are(const std::string& channel, int n);
    /// In a --processes group: waits until the sequencer answers (the parent prints its ready
    /// line before the children run), then for a tick and a half, by which every other process
    /// has linked to it (each tries once a second).
    void wait_for_group();

    TempDir site;
    std::unique_ptr<ServerProcess> server;
    int port = 0;
    int pub = 0;
};

}  // namespace c10k::test
