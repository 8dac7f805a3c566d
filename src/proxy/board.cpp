#include "proxy/board.hpp"

#include <new>

namespace c10k::proxy {

PoolBoard::PoolBoard(std::string name, std::vector<std::string> servers, std::size_t slots)
    : name_(std::move(name)),
      server_names_(std::move(servers)),
      slots_(slots, sizeof(PoolCounters) + server_names_.size() * sizeof(ServerCounters), "proxy"),
      shared_slots_(1, sizeof(Shared), "proxy"),
      // Zero-filled memory is a Shared of zeros; constructing it only starts its lifetime.
      shared_(new (shared_slots_.claim()) Shared()) {}

bool PoolBoard::set_draining(std::size_t index, bool drain) {
    if (index >= server_names_.size() || index >= 64) return false;
    std::uint64_t bit = std::uint64_t{1} << index;
    if (drain) {
        shared_->draining.fetch_or(bit, std::memory_order_relaxed);
    } else {
        shared_->draining.fetch_and(~bit, std::memory_order_relaxed);
    }
    return true;
}

int PoolBoard::find(std::string_view server) const {
    for (std::size_t i = 0; i < server_names_.size(); ++i) {
        if (server_names_[i] == server) return static_cast<int>(i);
    }
    return -1;
}

PoolBoard::Slot PoolBoard::claim() {
    // Zero-filled memory is counters of zero (atomics whose all-zero representation is 0).
    char* payload = static_cast<char*>(slots_.claim());
    Slot slot;
    slot.pool = reinterpret_cast<PoolCounters*>(payload);
    slot.servers = reinterpret_cast<ServerCounters*>(payload + sizeof(PoolCounters));
    return slot;
}

void PoolBoard::release(const Slot& slot) {
    slots_.release(slot.pool);
}

PoolTotals PoolBoard::totals(std::int64_t now_ms) const {
    PoolTotals sum;
    sum.name = name_;
    sum.servers.resize(server_names_.size());
    for (std::size_t s = 0; s < server_names_.size(); ++s) sum.servers[s].name = server_names_[s];
    std::uint64_t finished[64] = {};
    std::uint64_t closes[64] = {};
    for (std::size_t i = 0; i < slots_.used(); ++i) {
        const char* payload = static_cast<const char*>(slots_.payload(i));
        const auto& pool = *reinterpret_cast<const PoolCounters*>(payload);
        sum.queued += pool.queued.get();
        sum.queue_full += pool.queue_full.get();
        sum.queue_timeouts += pool.queue_timeouts.get();
        sum.unavailable += pool.unavailable.get();
        sum.total_timeouts += pool.total_timeouts.get();
        const auto* servers =
            reinterpret_cast<const ServerCounters*>(payload + sizeof(PoolCounters));
        for (std::size_t s = 0; s < server_names_.size() && s < 64; ++s) {
            const ServerCounters& c = servers[s];
            ServerTotals& t = sum.servers[s];
            t.requests += c.requests.get();
            finished[s] += c.finished.get();
            t.responses += c.responses.get();
            t.failures += c.failures.get();
            t.retries += c.retries.get();
            t.ejections += c.ejections.get();
            t.connects += c.connects.get();
            closes[s] += c.closes.get();
            t.response_5xx += c.response_5xx.get();
            t.checks_passed += c.checks_passed.get();
            t.checks_failed += c.checks_failed.get();
            t.went_down += c.went_down.get();
            t.came_up += c.came_up.get();
            if (c.ejected_until_ms.load(std::memory_order_relaxed) > now_ms) ++t.ejected;
            std::uint32_t view = c.health.load(std::memory_order_relaxed);
            if (view == kCheckedDown) {
                t.health = ServerTotals::Health::down;
            } else if (view == kCheckedUp && t.health == ServerTotals::Health::unchecked) {
                t.health = ServerTotals::Health::up;
            }
        }
    }
    std::uint64_t drained = draining();
    for (std::size_t s = 0; s < sum.servers.size() && s < 64; ++s) {
        ServerTotals& t = sum.servers[s];
        t.draining = ((drained >> s) & 1) != 0;
        // Read at slightly different moments, an end may be seen before its start: never below 0.
        t.in_flight = t.requests > finished[s] ? t.requests - finished[s] : 0;
        t.connections = t.connects > closes[s] ? t.connects - closes[s] : 0;
    }
    return sum;
}

}  // namespace c10k::proxy
