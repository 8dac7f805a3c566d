#pragma once
// The WebSocket conformance suite: the real binary's --ws-echo location, spoken to by the raw
// client of support/ws_client.hpp, once per engine. The behaviours follow RFC 6455 and RFC 7692
// in the order of Autobahn's case groups (1.x framing ... 13.x compression), written here from
// the RFCs.
//
// Servers are kept per engine and per set of flags for the life of the test process, so that a
// run of the whole executable starts a handful of servers rather than one per test; each test
// checks that the servers it used are still running when it ends.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace c10k::test {

/// Every engine the suite runs on; those that do not work on this kernel are skipped.
extern const std::vector<std::string> kWsEngines;

/// Engine names as test-name suffixes ("epoll-lt" -> "epoll_lt").
std::string ws_engine_name(const ::testing::TestParamInfo<std::string>& info);

class WsTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override;
    void TearDown() override;
    static void TearDownTestSuite();

    /// The port of a server on the engine under test, `--ws-echo /echo` plus `extra` flags,
    /// started on first use.
    int port(const std::vector<std::string>& extra = {});
    /// The server behind port(extra).
    ServerProcess& server(const std::vector<std::string>& extra = {});
    /// A client that completed the handshake (asserting it did) with the default server, or the
    /// one with `extra` flags.
    std::unique_ptr<WsClient> open(const std::vector<std::string>& extra = {},
                                   const WsHandshake& request = {});

private:
    std::vector<std::string> used_;
};

/// Sends `payload` as one message and expects it back byte for byte, of the same type, in
/// unmasked frames with minimal lengths and no reserved bits.
void expect_echo(WsClient& client, std::uint8_t opcode, const std::string& payload);
/// Reads the next message and expects it to be `payload` of type `opcode`.
void expect_message(WsClient& client, std::uint8_t opcode, const std::string& payload);
/// Expects the server to fail the connection: a close frame with `code`, then the TCP
/// connection closed by the server (without the client answering the close).
void expect_failure(WsClient& client, std::uint16_t code);
/// Expects a clean close: a close frame with `code`, then the TCP connection closed.
void expect_close(WsClient& client, std::uint16_t code);

/// Printable form of bytes for failure messages ("68 65 6c ...").
std::string hex(std::string_view bytes, std::size_t max = 64);

}  // namespace c10k::test
