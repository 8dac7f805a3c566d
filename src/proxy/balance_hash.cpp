#include "proxy/balance_hash.hpp"

#include <algorithm>

#include "proxy/pool.hpp"

namespace c10k::proxy {

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
    // One bijective mix per 8-byte word: two keys of the same length that differ in a word
    // keep differing through every later step, and the length is mixed in first.
    std::uint64_t hash = mix64(seed ^ (bytes.size() * 0x9e3779b97f4a7c15ULL));
    std::size_t offset = 0;
    while (offset < bytes.size()) {
        std::uint64_t word = 0;
        std::size_t count = std::min<std::size_t>(8, bytes.size() - offset);
        for (std::size_t i = 0; i < count; ++i) {
            word |= std::uint64_t{static_cast<unsigned char>(bytes[offset + i])} << (8 * i);
        }
        hash = mix64(hash ^ word);
        offset += count;
    }
    return hash;
}

HashRing::HashRing(const std::vector<ServerSpec>& servers) {
    std::uint64_t total_weight = 0;
    for (const ServerSpec& server : servers) total_weight += server.weight;
    if (total_weight == 0) return;
    std::uint64_t per_weight =
        std::clamp<std::uint64_t>(kMaxPoints / total_weight, 1, kPointsPerWeight);
    points_.reserve(static_cast<std::size_t>(per_weight * total_weight));
    for (std::size_t index = 0; index < servers.size(); ++index) {
        const ServerSpec& server = servers[index];
        std::string name = server.name.empty() ? server.address.to_string() : server.name;
        std::uint64_t count = per_weight * server.weight;
        for (std::uint64_t replica = 0; replica < count; ++replica) {
            points_.push_back({hash64(name, replica), static_cast<std::uint32_t>(index)});
        }
    }
    // Ties (two points with one hash) are ordered by server, so every loop builds one ring.
    std::sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
        return a.hash != b.hash ? a.hash < b.hash : a.server < b.server;
    });
}

std::size_t HashRing::first_at_or_after(std::uint64_t hash) const {
    auto at = std::lower_bound(
        points_.begin(), points_.end(), hash,
        [](const Point& point, std::uint64_t value) { return point.hash < value; });
    // Past the last point the ring wraps to the first.
    return at == points_.end() ? 0 : static_cast<std::size_t>(at - points_.begin());
}

}  // namespace c10k::proxy
