#include "proxy/pool.hpp"

#include <algorithm>

namespace c10k::proxy {

Pool::Pool(const PoolSpec& spec) : spec_(spec), states_(spec.servers.size()) {}

bool Pool::usable(std::size_t index, std::int64_t now_ms, std::uint64_t tried) const {
    if (index < 64 && (tried >> index) & 1) return false;
    return states_[index].down_until_ms <= now_ms;
}

int Pool::pick(std::int64_t now_ms, std::uint64_t tried) {
    int chosen = spec_.balance == Balance::least_outstanding ? pick_least_outstanding(now_ms, tried)
                                                             : pick_round_robin(now_ms, tried);
    if (chosen >= 0) return chosen;
    // Every untried server is down: the soonest to return gets the request (its connect will
    // tell whether it is back) rather than a 503 for a pool that may well have recovered.
    std::int64_t soonest = INT64_MAX;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (i < 64 && (tried >> i) & 1) continue;
        if (states_[i].down_until_ms < soonest) {
            soonest = states_[i].down_until_ms;
            chosen = static_cast<int>(i);
        }
    }
    return chosen;
}

int Pool::pick_round_robin(std::int64_t now_ms, std::uint64_t tried) {
    // Smooth weighted round robin: each usable server gains its weight, the richest is chosen
    // and pays the total back. Weights 5,1,1 give a a b a c a a rather than a a a a a b c.
    std::int64_t total = 0;
    int best = -1;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (!usable(i, now_ms, tried)) continue;
        ServerState& state = states_[i];
        state.current_weight += spec_.servers[i].weight;
        total += spec_.servers[i].weight;
        if (best < 0 ||
            state.current_weight > states_[static_cast<std::size_t>(best)].current_weight) {
            best = static_cast<int>(i);
        }
    }
    if (best >= 0) states_[static_cast<std::size_t>(best)].current_weight -= total;
    return best;
}

int Pool::pick_least_outstanding(std::int64_t now_ms, std::uint64_t tried) {
    // Fewest in flight relative to weight: outstanding/weight compared without division.
    int best = -1;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (!usable(i, now_ms, tried)) continue;
        if (best < 0) {
            best = static_cast<int>(i);
            continue;
        }
        auto b = static_cast<std::size_t>(best);
        std::uint64_t mine = std::uint64_t{states_[i].outstanding} * spec_.servers[b].weight;
        std::uint64_t theirs = std::uint64_t{states_[b].outstanding} * spec_.servers[i].weight;
        if (mine < theirs) best = static_cast<int>(i);
    }
    return best;
}

void Pool::mark_failed(std::size_t index, std::int64_t now_ms) {
    ServerState& state = states_[index];
    ++state.failed;
    std::int64_t backoff = spec_.backoff_ms;
    for (std::uint32_t i = 0; i < state.failures && backoff < spec_.max_backoff_ms; ++i)
        backoff *= 2;
    state.down_until_ms = now_ms + std::min(backoff, spec_.max_backoff_ms);
    ++state.failures;
}

void Pool::mark_ok(std::size_t index) {
    states_[index].failures = 0;
    states_[index].down_until_ms = 0;
}

}  // namespace c10k::proxy
