#pragma once
// How a bench worker process hands its counters to the coordinator over a pipe: 64-bit words in
// the host's byte order (both ends are the same binary), and maps as a count then key/value
// pairs. One copy for every kind of counters (requests, push, WebSocket).

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <vector>

namespace c10k::bench::wire {

inline void put(std::vector<std::uint8_t>& out, std::uint64_t value) {
    std::uint8_t bytes[8];
    std::memcpy(bytes, &value, 8);
    out.insert(out.end(), bytes, bytes + 8);
}

inline bool get(std::span<const std::uint8_t> in, std::size_t& offset, std::uint64_t& value) {
    if (offset + 8 > in.size()) return false;
    std::memcpy(&value, in.data() + offset, 8);
    offset += 8;
    return true;
}

/// Keys are integers (status codes, close codes, errnos, enums); negative ones round-trip.
template <typename Key>
void put_map(std::vector<std::uint8_t>& out, const std::map<Key, std::uint64_t>& map) {
    put(out, map.size());
    for (auto [key, count] : map) {
        put(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(key)));
        put(out, count);
    }
}

/// Adds the map read at `offset` into `map`. False when the bytes are short or the count
/// claims more pairs than the bytes could hold.
template <typename Key>
bool get_map(std::span<const std::uint8_t> in, std::size_t& offset,
             std::map<Key, std::uint64_t>& map) {
    std::uint64_t size = 0;
    if (!get(in, offset, size) || size > in.size() / 16) return false;
    for (std::uint64_t i = 0; i < size; ++i) {
        std::uint64_t key = 0, count = 0;
        if (!get(in, offset, key) || !get(in, offset, count)) return false;
        map[static_cast<Key>(static_cast<std::int64_t>(key))] += count;
    }
    return true;
}

}  // namespace c10k::bench::wire
