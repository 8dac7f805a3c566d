#pragma once
// What WebSocket connections of the bench count beyond their transport's usual figures: how
// handshakes went, whether compression was agreed, how connections ended, and for the echo
// mode what was sent and what came back wrong. Merges across loops and travels through a
// worker's pipe like the other stats.

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "bench/stats.hpp"

namespace c10k::bench {

struct WsCounters {
    std::uint64_t handshakes = 0;      ///< 101s with the right Sec-WebSocket-Accept
    std::uint64_t deflate_agreed = 0;  ///< of those, with permessage-deflate agreed
    /// 101s with a wrong Accept or an extension answer RFC 7692 forbids (the bench closes them).
    std::uint64_t bad_handshakes = 0;
    /// Refused handshakes by status (echo mode; push runs count them in bad_status).
    std::map<int, std::uint64_t> refused;
    /// Connections that ended while the bench wanted them, by close code (1006 for an end
    /// without a close handshake: a reset, an abort, the socket closed).
    std::map<int, std::uint64_t> close_codes;
    std::uint64_t messages_sent = 0;  ///< echo mode: messages intended in the measured interval
    std::uint64_t bad_echoes = 0;     ///< echo mode: echoes that were not the next message sent

    void merge(const WsCounters& other);
    void serialize(std::vector<std::uint8_t>& out) const;
    bool deserialize(std::span<const std::uint8_t> bytes, std::size_t& offset);
};

/// An echo loop's figures: messages as requests (RunStats), and the WebSocket counters.
struct WsEchoStats {
    RunStats run;
    WsCounters ws;

    void merge(const WsEchoStats& other) {
        run.merge(other.run);
        ws.merge(other.ws);
    }
    std::vector<std::uint8_t> serialize() const;
    bool deserialize(std::span<const std::uint8_t> bytes);
};

}  // namespace c10k::bench
