// `c10k proxy --total-timeout` (the real binary): a request's whole life is bounded, from its
// head to its answer's last byte, whatever the per-read timeouts allow.

#include <gtest/gtest.h>

#include <string>

#include "support/admin_scrape.hpp"
#include "support/http_client.hpp"
#include "support/mock_backend.hpp"
#include "support/proxy_fixture.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

TEST(ProxyTotalTimeout, AnswerThatNeverBeginsGets504) {
    // The response timeout alone would wait a minute; the total one ends it first.
    MockBackend backend([](const ReceivedRequest&) { return Reply{"", Reply::Then::stall}; });
    auto proxy = start_proxy({backend.address()},
                             {"--response-timeout", "60s", "--total-timeout", "300ms",
                              "--admin-listen", "127.0.0.1:0"});
    int admin = admin_port(*proxy);
    HttpClient client(proxy->port());
    client.send_get("/slow");
    HttpResponse response;
    ASSERT_TRUE(client.read_response(response, 10000)) << client.error();
    EXPECT_EQ(response.status, 504);
    EXPECT_NE(response.body.find("--total-timeout"), std::string::npos) << response.body;
    auto samples = scrape(admin);
    EXPECT_EQ(samples["c10k_proxy_total_timeouts_total{pool=\"default\"}"], 1);
}

TEST(ProxyTotalTimeout, AnswerThatTricklesIsCutOnceItBegan) {
    // A head and part of the body, then nothing: the client's connection is cut, never ended
    // as if the body were whole.
    MockBackend backend([](const ReceivedRequest&) {
        return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.", Reply::Then::stall};
    });
    auto proxy = start_proxy({backend.address()},
                             {"--response-timeout", "60s", "--total-timeout", "300ms"});
    HttpClient client(proxy->port());
    client.send_get("/trickle");
    HttpResponse response;
    EXPECT_FALSE(client.read_response(response, 10000)) << "a cut body must not look whole";
    EXPECT_TRUE(client.wait_closed(10000));
}

TEST(ProxyTotalTimeout, IsOffByDefaultAndRefusesBadValues) {
    CommandResult r = run_command({"proxy", "--help"});
    EXPECT_NE(r.output.find("--total-timeout DURATION=0s"), std::string::npos) << r.output;
    r = run_command({"proxy", "--listen", "127.0.0.1:0", "--backend", "127.0.0.1:1",
                     "--total-timeout", "soon"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--total-timeout"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test
