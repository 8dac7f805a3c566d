#pragma once
// Consistent hashing for the pool's hash balancers: a fixed 64-bit hash (std::hash may differ
// between builds and runs, and every loop and process must send a key to the same server) and
// a ring of virtual nodes, several per server in proportion to its weight, so that a server
// leaving moves only the keys that were on it, and those spread over the others.

#include <cstdint>
#include <string_view>
#include <vector>

namespace c10k::proxy {

struct ServerSpec;  // pool.hpp, which includes this file for the ring it holds

/// A bijective 64-bit mix (the splitmix64 finaliser): every input bit flips about half the
/// output bits, so nearby keys land far apart on the ring.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/// The hash of `bytes`, the same on every machine and in every run (bytes are read as
/// little-endian words whatever the host's order). Not meant to resist an attacker: a client
/// that wants one server can send it the same key anyway.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

class HashRing {
public:
    /// Points per unit of weight: enough that three servers of equal weight get shares within
    /// a few percent of a third, few enough that a lookup stays in cache.
    static constexpr std::uint32_t kPointsPerWeight = 160;
    /// The ring never holds more points than this (heavy weights on a large pool get fewer
    /// points per unit of weight, in the same proportions).
    static constexpr std::size_t kMaxPoints = 1 << 16;

    HashRing() = default;
    /// Each server's points are placed by hashing its name (its address when unnamed), not
    /// its index, so that a server added or removed in the list leaves the others' points where
    /// they were.
    explicit HashRing(const std::vector<ServerSpec>& servers);

    bool empty() const { return points_.empty(); }
    std::size_t points() const { return points_.size(); }

    /// Walks the ring clockwise from `hash` and returns the first server that `accept` takes,
    /// or -1 after a full turn. `servers` is the pool's size: the walk stops early once every
    /// server (of the first 64) has been refused.
    template <typename Accept>
    int find(std::uint64_t hash, std::size_t servers, Accept&& accept) const;

private:
    struct Point {
        std::uint64_t hash;
        std::uint32_t server;
    };
    std::size_t first_at_or_after(std::uint64_t hash) const;

    std::vector<Point> points_;  ///< sorted by hash, then server
};

template <typename Accept>
int HashRing::find(std::uint64_t hash, std::size_t servers, Accept&& accept) const {
    std::size_t index = first_at_or_after(hash);
    // A server refused once is refused at its other points too: remember it (for the first 64,
    // as the pool's `tried` bits do) rather than asking again.
    std::uint64_t refused = 0;
    std::size_t refused_count = 0;
    for (std::size_t step = 0; step < points_.size(); ++step, ++index) {
        if (index == points_.size()) index = 0;
        std::uint32_t server = points_[index].server;
        if (server < 64 && (refused >> server) & 1) continue;
        if (accept(static_cast<std::size_t>(server))) return static_cast<int>(server);
        if (server < 64) {
            refused |= std::uint64_t{1} << server;
            if (++refused_count == servers) break;
        }
    }
    return -1;
}

}  // namespace c10k::proxy
