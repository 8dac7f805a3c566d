#include "bench/ws_stats.hpp"

#include <cstring>

namespace c10k::bench {
namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t value) {
    std::uint8_t bytes[8];
    std::memcpy(bytes, &value, 8);
    out.insert(out.end(), bytes, bytes + 8);
}

bool get(std::span<const std::uint8_t> in, std::size_t& offset, std::uint64_t& value) {
    if (offset + 8 > in.size()) return false;
    std::memcpy(&value, in.data() + offset, 8);
    offset += 8;
    return true;
}

void put_map(std::vector<std::uint8_t>& out, const std::map<int, std::uint64_t>& map) {
    put(out, map.size());
    for (auto [key, count] : map) {
        put(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(key)));
        put(out, count);
    }
}

bool get_map(std::span<const std::uint8_t> in, std::size_t& offset,
             std::map<int, std::uint64_t>& map) {
    std::uint64_t size = 0;
    if (!get(in, offset, size) || size > in.size() / 16) return false;
    for (std::uint64_t i = 0; i < size; ++i) {
        std::uint64_t key = 0, count = 0;
        if (!get(in, offset, key) || !get(in, offset, count)) return false;
        map[static_cast<int>(static_cast<std::int64_t>(key))] += count;
    }
    return true;
}

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
