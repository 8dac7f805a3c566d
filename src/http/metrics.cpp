#include "http/metrics.hpp"

namespace c10k::http {

MetricsBoard::MetricsBoard(std::size_t slots) : slots_(slots, sizeof(LoopMetrics), "metrics") {}

MetricsBoard::~MetricsBoard() = default;

LoopMetrics* MetricsBoard::claim() {
    // A zero-filled payload is a LoopMetrics of zeros: its counters are atomics whose all-zero
    // representation is their zero value.
    return static_cast<LoopMetrics*>(slots_.claim());
}

void MetricsBoard::release(LoopMetrics* slot) {
    slots_.release(slot);
}

MetricsTotals MetricsBoard::totals() const {
    MetricsTotals sum;
    for (std::size_t i = 0; i < slots_.used(); ++i) {
        const auto& slot = *static_cast<const LoopMetrics*>(slots_.payload(i));
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
        sum.disk_helper_reads += slot.disk_helper_reads.get();
        sum.disk_helper_failures += slot.disk_helper_failures.get();
        for (std::size_t k = 0; k < kStages; ++k) {
            sum.stage_enqueued[k] += slot.stage_enqueued[k].get();
            sum.stage_dequeued[k] += slot.stage_dequeued[k].get();
            sum.stage_wait_us[k] += slot.stage_wait_us[k].get();
            sum.stage_threads_started[k] += slot.stage_threads_started[k].get();
            sum.stage_threads_stopped[k] += slot.stage_threads_stopped[k].get();
        }
        sum.overload_shed_requests += slot.overload_shed_requests.get();
        sum.overload_shed_connections += slot.overload_shed_connections.get();
        sum.overload_closed_idle += slot.overload_closed_idle.get();
        sum.writers += slots_.holders(i);
    }
    return sum;
}

}  // namespace c10k::http
