// A WebSocket connection's server side, without sockets: arbitrary bytes go into a
// websocket::Connection as a client's frames, fed in arbitrary splits, with an echo handler that
// sends every message back (so compression runs too). In half the runs permessage-deflate was
// negotiated, with parameters drawn from the input; in a third the message limit is small.
//
// Beyond "no crash and no sanitizer report", every input checks that:
//  - where reads happened to end never changes what happens: one feed and many pieces give the
//    same events (messages, pongs, the close) and the same bytes sent (up to when a client that
//    agreed to a narrow compression window is caught breaking it, see the end);
//  - what the server sends is a readable sequence of unmasked frames, with at most one close
//    frame and nothing after it;
//  - the close is reported exactly once, last, and every buffer is released by then;
//  - a finished connection takes no more input and sends nothing more.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "websocket/connection.hpp"

namespace {

using namespace c10k;
using namespace c10k::websocket;

/// Records events as text and the output as bytes, and echoes every message.
class Echo : public ConnectionHandler, public ConnectionOutput {
public:
    void on_message(MessageType type, std::string_view payload) override {
        C10K_FUZZ_CHECK(closes == 0, "a message after the close");
        if (type == MessageType::text) {
            C10K_FUZZ_CHECK(is_valid_utf8(payload), "a text message that is not UTF-8");
        }
        events.push_back((type == MessageType::text ? "text " : "binary ") +
                         std::to_string(payload.size()) + " " + std::string(payload));
        if (type == MessageType::text) {
            connection->send_text(payload);
        } else {
            connection->send_binary(payload);
        }
    }
    void on_close(std::uint16_t code, std::string_view reason) override {
        ++closes;
        C10K_FUZZ_CHECK(closes == 1, "the close reported twice");
        events.push_back("close " + std::to_string(code) + " " + std::string(reason));
    }
    void on_pong(std::string_view payload) override {
        C10K_FUZZ_CHECK(payload.size() <= kMaxControlPayload, "a pong over 125 bytes");
        events.push_back("pong " + std::string(payload));
    }
    void write(std::string frames) override { output += frames; }

    Connection* connection = nullptr;
    std::vector<std::string> events;
    std::string output;
    int closes = 0;
};

/// The close event of a peer whose compressed data zlib refused.
const std::string kInflateRefused = "close 1007 invalid compressed data";

std::string joined(const std::vector<std::string>& events) {
    std::string out;
    for (const std::string& e : events) out += e + "\n";
    return out;
}

/// Reads the server's output as a client would.
void check_output(const std::string& output, bool deflate);

struct Result {
    std::vector<std::string> events;
    std::string output;
    bool failed = false;
};

/// Feeds `data` to a fresh connection, in pieces when there is a plan, then the peer closes.
Result run(const Options& options, const std::optional<DeflateParams>& deflate,
           const std::uint8_t* data, std::size_t size, fuzz::SplitPlan* plan) {
    Echo echo;
    Connection connection(options, echo, echo, 0, deflate);
    echo.connection = &connection;
    std::size_t pos = 0;
    while (pos < size && !connection.finished()) {
        std::size_t piece = plan ? plan->next(size - pos) : size - pos;
        connection.feed(reinterpret_cast<const char*>(data) + pos, piece, 1);
        pos += piece;
    }
    connection.on_peer_closed();
    C10K_FUZZ_CHECK(connection.finished(), "the peer left, yet the connection is not over");
    C10K_FUZZ_CHECK(echo.closes == 1, "the close was not reported");
    C10K_FUZZ_CHECK(connection.buffered_bytes() == 0, "a finished connection holds a buffer");
    C10K_FUZZ_CHECK(!connection.can_send(), "a finished connection can send");
    C10K_FUZZ_CHECK(connection.deadline_ms() == kNoDeadline, "a finished connection has a timer");
    // A finished connection takes nothing more.
    std::size_t events = echo.events.size(), output = echo.output.size();
    static const char kLate[] = "\x89\x80\x01\x02\x03\x04";
    connection.feed(kLate, sizeof kLate - 1, 2);
    connection.on_timer(INT64_MAX - 1);
    connection.close(3, close_code::normal);
    C10K_FUZZ_CHECK(!connection.send_text("late") && !connection.ping(),
                    "a finished connection sent");
    C10K_FUZZ_CHECK(echo.events.size() == events && echo.output.size() == output,
                    "a finished connection answered");
    return {echo.events, echo.output, connection.failed()};
}

/// Checks frame by frame what the server sent.
class OutputChecker : public FrameSink {
public:
    bool on_frame_header(const FrameHeader& header) override {
        C10K_FUZZ_CHECK(!closed_, "a frame after the close frame");
        C10K_FUZZ_CHECK(header.fin, "the server fragments nothing");
        if (header.opcode == Opcode::close) closed_ = true;
        return true;
    }
    bool on_frame_payload(const char*, std::size_t) override { return true; }
    bool on_frame_end() override { return true; }

private:
    bool closed_ = false;
};

void check_output(const std::string& output, bool deflate) {
    FrameParser reader(Role::client, deflate);
    OutputChecker checker;
    bool readable = reader.feed(output.data(), output.size(), checker);
    C10K_FUZZ_CHECK(
        readable && reader.at_frame_boundary(),
        std::string("server output is not a sequence of frames: ") + describe(reader.error()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::SplitPlan plan(data, size);
    Options options;
    options.role = Role::server;
    options.ping_interval_ms = 0;
    if (plan.below(3) == 0) options.max_message_bytes = 1 + plan.below(300);
    options.compress_min_bytes = plan.below(2) == 0 ? 0 : 64;
    std::optional<DeflateParams> deflate;
    if (plan.below(2) == 0) {
        DeflateParams params;
        params.server_no_context_takeover = plan.below(2) == 0;
        params.client_no_context_takeover = plan.below(2) == 0;
        params.server_max_window_bits = 9 + static_cast<int>(plan.below(7));
        // Mostly the full window; a narrower one in a quarter of the runs (see the end).
        params.client_max_window_bits =
            plan.below(4) == 0 ? 8 + static_cast<int>(plan.below(7)) : 15;
        deflate = params;
    }

    Result whole = run(options, deflate, data, size, nullptr);
    Result pieces = run(options, deflate, data, size, &plan);

    check_output(whole.output, deflate.has_value());
    check_output(pieces.output, deflate.has_value());
    if (whole.events == pieces.events) {
        C10K_FUZZ_CHECK(whole.output == pieces.output, "output depends on how input was split");
        C10K_FUZZ_CHECK(whole.failed == pieces.failed, "failure depends on how input was split");
        return 0;
    }
    // One freedom is allowed, and only when the client agreed to a window narrower than 15
    // bits: zlib refuses a back-reference beyond the window only when the bytes it points to
    // are no longer in its current output buffer, so a client that breaks its promise may be
    // caught (1007) in one run and not in the other, depending on where reads ended. Either
    // way zlib reads only bytes it produced. Everything before the refusal must be identical.
    bool narrow = deflate && deflate->client_max_window_bits < 15;
    const std::vector<std::string>* refused = &whole.events;
    const std::vector<std::string>* other = &pieces.events;
    if (refused->back() != kInflateRefused) std::swap(refused, other);
    C10K_FUZZ_CHECK(narrow && refused->back() == kInflateRefused &&
                        refused->size() <= other->size() &&
                        std::equal(refused->begin(), refused->end() - 1, other->begin()),
                    "events depend on how input was split\n--- whole:\n" + joined(whole.events) +
                        "--- in pieces:\n" + joined(pieces.events));
    return 0;
}
