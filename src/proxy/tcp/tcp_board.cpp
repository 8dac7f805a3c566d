#include "proxy/tcp/tcp_board.hpp"

#include <new>

namespace c10k::proxy::tcp {

TcpBoard::TcpBoard(std::string pool, std::vector<std::string> servers, std::size_t slots)
    : pool_name_(std::move(pool)),
      server_names_(std::move(servers)),
      slots_(slots, sizeof(TcpPoolCounters) + server_names_.size() * sizeof(TcpServerCounters),
             "tcp relay"),
      shared_slots_(1, sizeof(Shared), "tcp relay"),
      // Zero-filled memory is a Shared of zeros; constructing it only starts its lifetime.
      shared_(new (shared_slots_.claim()) Shared()) {}

TcpBoard::Slot TcpBoard::claim() {
    // Zero-filled memory is counters of zero (atomics whose all-zero representation is 0).
    char* payload = static_cast<char*>(slots_.claim());
    Slot slot;
    slot.pool = reinterpret_cast<TcpPoolCounters*>(payload);
    slot.servers = reinterpret_cast<TcpServerCounters*>(payload + sizeof(TcpPoolCounters));
    return slot;
}

void TcpBoard::release(const Slot& slot) {
    slots_.release(slot.pool);
}

TcpPoolTotals TcpBoard::totals() const {
    TcpPoolTotals sum;
    sum.name = pool_name_;
    sum.servers.resize(server_names_.size());
    std::vector<std::uint64_t> closes(server_names_.size(), 0);
    for (std::size_t i = 0; i < slots_.used(); ++i) {
        const char* payload = static_cast<const char*>(slots_.payload(i));
        const auto& pool = *reinterpret_cast<const TcpPoolCounters*>(payload);
        sum.over_capacity += pool.over_capacity.get();
        sum.unavailable += pool.unavailable.get();
        const auto* servers =
            reinterpret_cast<const TcpServerCounters*>(payload + sizeof(TcpPoolCounters));
        for (std::size_t s = 0; s < server_names_.size(); ++s) {
            TcpServerTotals& t = sum.servers[s];
            t.connects += servers[s].connects.get();
            closes[s] += servers[s].closes.get();
            t.connect_failures += servers[s].connect_failures.get();
            t.bytes_to_server += servers[s].bytes_to_server.get();
            t.bytes_to_client += servers[s].bytes_to_client.get();
        }
    }
    sum.checked = shared_->checked.load(std::memory_order_relaxed);
    std::uint64_t up = shared_->up_bits.load(std::memory_order_relaxed);
    for (std::size_t s = 0; s < server_names_.size(); ++s) {
        TcpServerTotals& t = sum.servers[s];
        t.name = server_names_[s];
        // Read at slightly different moments, an end may be seen before its start.
        t.connections = t.connects > closes[s] ? t.connects - closes[s] : 0;
        t.up = !sum.checked || (s < 64 && ((up >> s) & 1) != 0);
    }
    return sum;
}

}  // namespace c10k::proxy::tcp
