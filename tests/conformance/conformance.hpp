#pragma once
// The one HTTP conformance suite, run against every engine that works on this machine: the
// responses, limits, timeouts and errors must not depend on the architecture.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {

/// A document root with known files, and a secret file beside it that must never be served.
struct SiteFixture {
    TempDir dir;
    std::string root;
    std::string large;  ///< 5 MiB of pseudo-random bytes at /large.bin

    SiteFixture();
};

class EngineTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override;
    void TearDown() override;
    /// Starts `c10k serve` on the engine under test with these extra flags.
    void start(std::vector<std::string> extra = {});
    int port() const { return server_->port(); }
    ServerProcess& server() { return *server_; }

    std::unique_ptr<SiteFixture> site_;
    std::unique_ptr<ServerProcess> server_;
};

/// Names engines for test names ("epoll-lt" -> "epoll_lt").
std::string engine_test_name(const ::testing::TestParamInfo<std::string>& info);

}  // namespace c10k::test
