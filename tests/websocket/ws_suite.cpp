#include "websocket/ws_suite.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "engine/engine.hpp"

namespace c10k::test {

const std::vector<std::string> kWsEngines = {"epoll", "epoll-lt", "poll",   "select",
                                             "sigio", "uring",    "thread", "staged"};

std::string ws_engine_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (auto& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

namespace {

/// A server and the empty document root it was given.
struct CachedServer {
    TempDir root;
    std::unique_ptr<ServerProcess> process;
};

/// Servers by engine and flags, alive until the test suite ends.
std::map<std::string, CachedServer>& servers() {
    static std::map<std::string, CachedServer> cache;
    return cache;
}

std::string cache_key(const std::string& engine, const std::vector<std::string>& extra) {
    std::string key = engine;
    for (const auto& flag : extra) key += " " + flag;
    return key;
}

}  // namespace

void WsTest::SetUp() {
    const auto available = engine::available();
    if (std::find(available.begin(), available.end(), GetParam()) == available.end()) {
        GTEST_SKIP() << "engine " << GetParam() << " does not work on this kernel";
    }
}

void WsTest::TearDown() {
    // A server that died during the test (a crash on some frame) fails the test that did it.
    for (const auto& key : used_) {
        auto found = servers().find(key);
        if (found == servers().end()) continue;
        ServerProcess& process = *found->second.process;
        // Reading its output keeps a chatty server from blocking on a full pipe.
        process.output();
        EXPECT_TRUE(process.running()) << "the server (" << key << ") died; output:\n"
                                       << process.output();
        if (!process.running()) servers().erase(found);
    }
}

void WsTest::TearDownTestSuite() {
    for (auto& [key, cached] : servers()) {
        int status = cached.process->stop();
        EXPECT_EQ(status, 0) << "the server (" << key << ") did not exit cleanly on SIGTERM:\n"
                             << cached.process->output();
    }
    servers().clear();
}

ServerProcess& WsTest::server(const std::vector<std::string>& extra) {
    std::string key = cache_key(GetParam(), extra);
    auto found = servers().find(key);
    if (found == servers().end()) {
        CachedServer& cached = servers()[key];
        std::vector<std::string> args = {
            "serve",    "--engine",    GetParam(),  "--root", cached.root.path(),
            "--listen", "127.0.0.1:0", "--threads", "1",      "--ws-echo",
            "/echo"};
        args.insert(args.end(), extra.begin(), extra.end());
        try {
            cached.process = std::make_unique<ServerProcess>(args);
        } catch (...) {
            servers().erase(key);
            throw;
        }
        found = servers().find(key);
    }
    if (std::find(used_.begin(), used_.end(), key) == used_.end()) used_.push_back(key);
    return *found->second.process;
}

int WsTest::port(const std::vector<std::string>& extra) {
    return server(extra).port();
}

std::unique_ptr<WsClient> WsTest::open(const std::vector<std::string>& extra,
                                       const WsHandshake& request) {
    auto client = std::make_unique<WsClient>(port(extra));
    bool accepted = client->handshake(request);
    EXPECT_TRUE(accepted) << "handshake refused: " << client->answer().status << " "
                          << client->answer().body << client->last_error();
    return client;
}

std::string hex(std::string_view bytes, std::size_t max) {
    std::string out;
    char digits[4];
    for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
        std::snprintf(digits, sizeof digits, "%02x", static_cast<unsigned char>(bytes[i]));
        if (!out.empty()) out += ' ';
        out += digits;
    }
    if (bytes.size() > max) out += " ... (" + std::to_string(bytes.size()) + " bytes)";
    return out;
}

void expect_message(WsClient& client, std::uint8_t opcode, const std::string& payload) {
    auto message = client.read_message(30000);
    ASSERT_TRUE(message) << "no message: " << client.last_error()
                         << (client.close_seen()
                                 ? " (close code " + std::to_string(client.close_seen()->code) +
                                       " " + client.close_seen()->reason + ")"
                                 : std::string());
    EXPECT_EQ(message->opcode, opcode);
    EXPECT_EQ(message->payload.size(), payload.size());
    EXPECT_TRUE(message->payload == payload)
        << "sent " << hex(payload) << "\ngot  " << hex(message->payload);
}

void expect_echo(WsClient& client, std::uint8_t opcode, const std::string& payload) {
    ASSERT_TRUE(client.send_raw(ws_encode(opcode, payload))) << client.last_error();
    // Read frame by frame here, to check every header the server wrote.
    std::string joined;
    std::uint8_t first_opcode = 0;
    for (int frames = 0;; ++frames) {
        auto frame = client.read_frame(30000);
        ASSERT_TRUE(frame) << "no echo of " << payload.size() << " bytes: " << client.last_error();
        EXPECT_FALSE(frame->masked) << "server frames must not be masked (RFC 6455 5.1)";
        EXPECT_FALSE(frame->long_length) << "length not in its shortest form (RFC 6455 5.2)";
        EXPECT_FALSE(frame->rsv1 || frame->rsv2 || frame->rsv3) << "reserved bits set";
        ASSERT_NE(frame->opcode, ws_opcode::close)
            << "closed instead of echoing: " << ws_parse_close(frame->payload).code << " "
            << ws_parse_close(frame->payload).reason;
        ASSERT_LT(frame->opcode, 0x8) << "unexpected control frame";
        if (frames == 0) {
            first_opcode = frame->opcode;
        } else {
            EXPECT_EQ(frame->opcode, ws_opcode::continuation);
        }
        joined += frame->payload;
        if (frame->fin) break;
    }
    EXPECT_EQ(first_opcode, opcode);
    EXPECT_EQ(joined.size(), payload.size());
    EXPECT_TRUE(joined == payload) << "sent " << hex(payload) << "\ngot  " << hex(joined);
}

void expect_failure(WsClient& client, std::uint16_t code) {
    auto close = client.read_close(5000);
    ASSERT_TRUE(close) << "no close frame (expected " << code << "): " << client.last_error();
    EXPECT_TRUE(close->has_code) << "close frame without a code, expected " << code;
    EXPECT_EQ(close->code, code) << "reason: " << close->reason;
    EXPECT_TRUE(client.wait_tcp_closed(5000))
        << "the server kept the TCP connection open after failing it";
}

void expect_close(WsClient& client, std::uint16_t code) {
    auto close = client.read_close(5000);
    ASSERT_TRUE(close) << "no close frame (expected " << code << "): " << client.last_error();
    EXPECT_TRUE(close->has_code);
    EXPECT_EQ(close->code, code) << "reason: " << close->reason;
    EXPECT_TRUE(client.wait_tcp_closed(5000))
        << "the server kept the TCP connection open after the close handshake";
}

}  // namespace c10k::test
