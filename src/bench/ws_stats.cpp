#include "bench/ws_stats.hpp"
#include "bench/wire.hpp"

#include <cstring>

namespace c10k::bench {
namespace {

using wire::get;
using wire::get_map;
using wire::put;
using wire::put_map;

}  // namespace

void WsCounters::merge(const WsCounters& other) {
    handshakes += other.handshakes;
    deflate_agreed += other.deflate_agreed;
    bad_handshakes += other.bad_handshakes;
    messages_sent += other.messages_sent;
    bad_echoes += other.bad_echoes;
    for (auto [status, count] : other.refused) refused[status] += count;
    for (auto [code, count] : other.close_codes) close_codes[code] += count;
}

void WsCounters::serialize(std::vector<std::uint8_t>& out) const {
    for (auto value : {handshakes, deflate_agreed, bad_handshakes, messages_sent, bad_echoes}) {
        put(out, value);
    }
    put_map(out, refused);
    put_map(out, close_codes);
}

bool WsCounters::deserialize(std::span<const std::uint8_t> bytes, std::size_t& offset) {
    *this = WsCounters{};
    for (auto* value :
         {&handshakes, &deflate_agreed, &bad_handshakes, &messages_sent, &bad_echoes}) {
        if (!get(bytes, offset, *value)) return false;
    }
    return get_map(bytes, offset, refused) && get_map(bytes, offset, close_codes);
}

std::vector<std::uint8_t> WsEchoStats::serialize() const {
    // The request stats first, behind their length: RunStats reads a whole buffer.
    std::vector<std::uint8_t> out;
    std::vector<std::uint8_t> inner = run.serialize();
    put(out, inner.size());
    out.insert(out.end(), inner.begin(), inner.end());
    ws.serialize(out);
    return out;
}

bool WsEchoStats::deserialize(std::span<const std::uint8_t> bytes) {
    std::size_t offset = 0;
    std::uint64_t length = 0;
    if (!get(bytes, offset, length) || length > bytes.size() - offset) return false;
    if (!run.deserialize(bytes.subspan(offset, length))) return false;
    offset += length;
    return ws.deserialize(bytes, offset) && offset == bytes.size();
}

}  // namespace c10k::bench
