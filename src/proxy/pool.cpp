#include "proxy/pool.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace c10k::proxy {

namespace {

/// With slow start on, weights are counted in hundredths, so that a server of weight 1 can
/// ramp too (HAProxy scales its weights by 16 for the same reason). Every server's weight is
/// scaled alike, which leaves round robin's order and least outstanding's choices unchanged.
constexpr std::uint64_t kSlowStartScale = 100;

}  // namespace

Pool::Pool(const PoolSpec& spec, const HealthBoard* board)
    : spec_(spec), board_(board), states_(spec.servers.size()) {
    if (spec_.balance == Balance::source_hash || spec_.balance == Balance::hash) {
        ring_ = HashRing(spec_.servers);
    }
    if (spec_.balance == Balance::hash && spec_.hash_balance_factor > 0) {
        balance_percent_ = static_cast<std::uint64_t>(std::lround(spec_.hash_balance_factor * 100));
    }
    random_state_ = spec_.random_seed;
    if (random_state_ == 0) {
        auto clock = std::chrono::steady_clock::now().time_since_epoch().count();
        random_state_ =
            mix64(reinterpret_cast<std::uintptr_t>(this) ^ static_cast<std::uint64_t>(clock));
    }
    candidates_.reserve(spec_.servers.size());
}

bool Pool::usable(std::size_t index, std::int64_t now_ms, std::uint64_t tried) const {
    if (index < 64 && (tried >> index) & 1) return false;
    return back_at(index) <= now_ms && checked_up(index);
}

std::int64_t Pool::back_at(std::size_t index) const {
    return std::max(states_[index].down_until_ms, states_[index].ejected_until_ms);
}

void Pool::read_board() {
    if (board_ == nullptr) return;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        ServerState& state = states_[i];
        std::int64_t up_since = board_->up_since_ms(i);
        state.checked_up = up_since != HealthBoard::kDown;
        state.checks_failed = board_->checks_failed(i);
        // Newly UP (0 is UP from the start): it ramps from then, unless a back-off of this
        // loop's ends later.
        if (up_since > 0 && state.slow_start_from_ms < up_since) {
            state.slow_start_from_ms = up_since;
        }
    }
}

bool Pool::none_healthy() const {
    if (board_ == nullptr) return false;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (board_->up(i)) return false;
    }
    return true;
}

std::uint64_t Pool::effective_weight(std::size_t index, std::int64_t now_ms) const {
    std::uint64_t weight = spec_.servers[index].weight;
    if (spec_.slow_start_ms <= 0) return weight;
    weight *= kSlowStartScale;
    std::int64_t from = states_[index].slow_start_from_ms;
    if (from == ServerState::kNoSlowStart || now_ms - from >= spec_.slow_start_ms) return weight;
    // A tenth at first rather than nothing: a server that gets no requests cannot show it is
    // back (and round robin would skip it outright).
    std::uint64_t least = std::max<std::uint64_t>(1, weight / 10);
    if (now_ms <= from) return least;
    auto elapsed = static_cast<std::uint64_t>(now_ms - from);
    return std::max(least, weight * elapsed / static_cast<std::uint64_t>(spec_.slow_start_ms));
}

int Pool::pick(std::int64_t now_ms, std::uint64_t tried, std::string_view key) {
    last_pick_ms_ = now_ms;
    read_board();
    int chosen = -1;
    switch (spec_.balance) {
        case Balance::round_robin:
            chosen = pick_round_robin(now_ms, tried);
            break;
        case Balance::least_outstanding:
            chosen = pick_least_outstanding(now_ms, tried);
            break;
        case Balance::random_two:
            chosen = pick_random_two(now_ms, tried);
            break;
        case Balance::source_hash:
        case Balance::hash:
            chosen = pick_hashed(now_ms, tried, key);
            break;
    }
    if (chosen >= 0) return chosen;
    // Every untried server is down: the soonest to return gets the request (its connect will
    // tell whether it is back) rather than a 503 for a pool that may well have recovered. A
    // server the active checks hold DOWN is never chosen: they know it is not back.
    std::int64_t soonest = INT64_MAX;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (i < 64 && (tried >> i) & 1) continue;
        if (!checked_up(i)) continue;
        if (back_at(i) < soonest) {
            soonest = back_at(i);
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
        auto weight = static_cast<std::int64_t>(effective_weight(i, now_ms));
        state.current_weight += weight;
        total += weight;
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
    std::uint64_t best_weight = 0;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (!usable(i, now_ms, tried)) continue;
        std::uint64_t weight = effective_weight(i, now_ms);
        if (best < 0) {
            best = static_cast<int>(i);
            best_weight = weight;
            continue;
        }
        auto b = static_cast<std::size_t>(best);
        std::uint64_t mine = std::uint64_t{states_[i].outstanding} * best_weight;
        std::uint64_t theirs = std::uint64_t{states_[b].outstanding} * weight;
        if (mine < theirs) {
            best = static_cast<int>(i);
            best_weight = weight;
        }
    }
    return best;
}

std::uint64_t Pool::next_random() {
    // splitmix64: one add and one mix per number, and a state of one word per pool.
    random_state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(random_state_);
}

int Pool::pick_random_two(std::int64_t now_ms, std::uint64_t tried) {
    candidates_.clear();
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (usable(i, now_ms, tried)) candidates_.push_back(i);
    }
    std::size_t count = candidates_.size();
    if (count == 0) return -1;
    if (count == 1) return static_cast<int>(candidates_[0]);
    // Two distinct candidates: the second is drawn from the other count - 1. The modulo's
    // bias is below count / 2^64, far under anything a pool could show.
    std::size_t first = next_random() % count;
    std::size_t second = next_random() % (count - 1);
    if (second >= first) ++second;
    std::size_t a = candidates_[first];
    std::size_t b = candidates_[second];
    // (outstanding + 1) per weight: the request being placed counts, so that between two idle
    // servers the heavier one wins, as its weight asks.
    std::uint64_t a_load =
        (std::uint64_t{states_[a].outstanding} + 1) * effective_weight(b, now_ms);
    std::uint64_t b_load =
        (std::uint64_t{states_[b].outstanding} + 1) * effective_weight(a, now_ms);
    return static_cast<int>(a_load <= b_load ? a : b);
}

int Pool::pick_hashed(std::int64_t now_ms, std::uint64_t tried, std::string_view key) {
    // No key (no such header or cookie): HAProxy balances such requests round robin too,
    // rather than hashing "" and sending them all to one server.
    if (key.empty() || ring_.empty()) return pick_round_robin(now_ms, tried);
    std::uint64_t point = hash64(key);
    auto fits = [&](std::size_t i) { return usable(i, now_ms, tried); };
    if (balance_percent_ == 0) return ring_.find(point, size(), fits);
    // Bounded loads: a server's capacity is ceil(factor * (total + 1) * weight / all weights),
    // the outstanding requests of the servers that are up, this one included; it takes the
    // key while its own count is below that. In integers: outstanding * 100 * all weights <
    // percent * (total + 1) * weight.
    std::uint64_t total = 1;
    std::uint64_t all_weights = 0;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        if (back_at(i) > now_ms || !checked_up(i)) continue;
        total += states_[i].outstanding;
        all_weights += spec_.servers[i].weight;
    }
    auto fits_bound = [&](std::size_t i) {
        return fits(i) && std::uint64_t{states_[i].outstanding} * 100 * all_weights <
                              balance_percent_ * total * spec_.servers[i].weight;
    };
    int chosen = ring_.find(point, size(), fits_bound);
    // With a factor of at least 1 some server that is up is below its bound; when that one
    // was tried already, the key's usable server takes it over its bound.
    return chosen >= 0 ? chosen : ring_.find(point, size(), fits);
}

void Pool::mark_failed(std::size_t index, std::int64_t now_ms) {
    ServerState& state = states_[index];
    ++state.failed;
    std::int64_t backoff = spec_.backoff_ms;
    for (std::uint32_t i = 0; i < state.failures && backoff < spec_.max_backoff_ms; ++i)
        backoff *= 2;
    state.down_until_ms = now_ms + std::min(backoff, spec_.max_backoff_ms);
    // It rejoins the rotation when the back-off ends, and ramps up from there.
    state.slow_start_from_ms = state.down_until_ms;
    ++state.failures;
}

void Pool::mark_ok(std::size_t index) {
    ServerState& state = states_[index];
    state.failures = 0;
    state.down_until_ms = 0;
    // A server that answered before its back-off ended (it was tried when every server was
    // down) is back already: its ramp starts now, as near as the pool knows the time, rather
    // than when the back-off would have ended.
    state.slow_start_from_ms = std::min(state.slow_start_from_ms, last_pick_ms_);
}

bool Pool::record_failed_request(std::size_t index, std::int64_t now_ms) {
    if (spec_.eject_after == 0) return false;
    ServerState& state = states_[index];
    // Requests that were in flight when it was ejected do not eject it again.
    if (state.ejected_until_ms > now_ms) return false;
    if (++state.failed_requests < spec_.eject_after) return false;
    std::size_t cap = std::min(size() * spec_.max_ejected_percent / 100, size() - 1);
    std::size_t ejected = 0;
    for (const ServerState& other : states_) {
        if (other.ejected_until_ms > now_ms) ++ejected;
    }
    // At the cap the streak is kept: the server goes as soon as there is room.
    if (ejected >= cap) return false;
    ++state.ejections;
    state.failed_requests = 0;
    state.ejected_until_ms = now_ms + ejection_ms(index);
    state.slow_start_from_ms = std::max(state.slow_start_from_ms, state.ejected_until_ms);
    return true;
}

std::int64_t Pool::ejection_ms(std::size_t index) const {
    // Longer with each ejection, so that a server that keeps failing stays out longer, up to
    // the cap (checked by division first: no overflow however many ejections there were).
    auto count = static_cast<std::int64_t>(states_[index].ejections);
    std::int64_t unit = std::max<std::int64_t>(1, spec_.eject_time_ms);
    if (count > spec_.eject_max_time_ms / unit) return spec_.eject_max_time_ms;
    return std::min(unit * count, spec_.eject_max_time_ms);
}

}  // namespace c10k::proxy
