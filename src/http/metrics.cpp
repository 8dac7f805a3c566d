#include "http/metrics.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace c10k::http {

namespace {

// The high-water mark sits in the mapping's first cache line; slots start on the next one, so
// loops never share a line with it.
constexpr std::size_t kHeaderBytes = 64;

}  // namespace

MetricsBoard::MetricsBoard(std::size_t slots) : count_(slots < 1 ? 1 : slots) {
    bytes_ = kHeaderBytes + count_ * sizeof(LoopMetrics);
    void* memory = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) {
        throw std::runtime_error(std::string("metrics: cannot map the counters: ") +
                                 std::strerror(errno));
    }
    // The mapping is zero-filled; the atomics' all-zero representation is their zero value,
    // so constructing them only makes the objects' lifetimes official.
    used_ = new (memory) std::atomic<std::size_t>(0);
    slots_ = reinterpret_cast<LoopMetrics*>(static_cast<char*>(memory) + kHeaderBytes);
}

MetricsBoard::~MetricsBoard() {
    ::munmap(used_, bytes_);
}

LoopMetrics* MetricsBoard::claim() {
    // Slots are taken lowest first, so the used prefix stays as short as the most writers ever
    // held at once, and a scrape reads only that.
    for (std::size_t i = 0; i + 1 < count_; ++i) {
        LoopMetrics* slot = slots_ + i;
        std::uint32_t expected = 0;
        if (slot->claimed.load(std::memory_order_relaxed) == 0 &&
            slot->claimed.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
            std::size_t used = used_->load(std::memory_order_relaxed);
            while (used < i + 1 && !used_->compare_exchange_weak(used, i + 1)) {
            }
            return slot;
        }
    }
    LoopMetrics* overflow = slots_ + (count_ - 1);
    used_->store(count_, std::memory_order_relaxed);
    overflow->claimed.fetch_add(1, std::memory_order_relaxed);
    return overflow;
}

void MetricsBoard::release(LoopMetrics* slot) {
    if (slot == nullptr) return;
    slot->claimed.fetch_sub(1, std::memory_order_acq_rel);
}

MetricsTotals MetricsBoard::totals() const {
    MetricsTotals sum;
    std::size_t used = used_->load(std::memory_order_acquire);
    for (std::size_t i = 0; i < used && i < count_; ++i) {
        const LoopMetrics& slot = slots_[i];
        for (int s = 0; s < LoopMetrics::kStatuses; ++s)
            sum.responses[s] += slot.responses[s].get();
        for (std::size_t b = 0; b < kLatencyBuckets; ++b) sum.latency[b] += slot.latency[b].get();
        sum.latency_sum_ms += slot.latency_sum_ms.get();
        sum.bytes_received += slot.bytes_received.get();
        sum.bytes_sent += slot.bytes_sent.get();
        sum.connections_opened += slot.connections_opened.get();
        sum.connections_closed += slot.connections_closed.get();
        sum.deferred_started += slot.deferred_started.get();
        sum.deferred_ended += slot.deferred_ended.get();
        for (std::size_t k = 0; k < std::size(slot.timeouts); ++k)
            sum.timeouts[k] += slot.timeouts[k].get();
        sum.protocol_errors += slot.protocol_errors.get();
        sum.push_subscribed += slot.push_subscribed.get();
        sum.push_unsubscribed += slot.push_unsubscribed.get();
        sum.push_delivered += slot.push_delivered.get();
        sum.push_closed_slow += slot.push_closed_slow.get();
        sum.writers += slot.claimed.load(std::memory_order_relaxed);
    }
    return sum;
}

}  // namespace c10k::http
