#include "core/shared_slots.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace c10k::core {

namespace {

// The high-water mark sits in the mapping's first cache line and each slot's holder count in
// the slot's first one, so that writers never share a line with it or with each other.
constexpr std::size_t kLine = 64;

std::size_t round_up(std::size_t bytes) {
    return (bytes + kLine - 1) / kLine * kLine;
}

}  // namespace

SharedSlots::SharedSlots(std::size_t slots, std::size_t payload_bytes, const char* what)
    : count_(slots < 1 ? 1 : slots), stride_(kLine + round_up(payload_bytes)) {
    bytes_ = kLine + count_ * stride_;
    void* memory = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) {
        throw std::runtime_error(std::string(what) +
                                 ": cannot map the counters: " + std::strerror(errno));
    }
    memory_ = static_cast<char*>(memory);
    // The mapping is zero-filled; the atomics' all-zero representation is their zero value,
    // so constructing them only makes the objects' lifetimes official.
    used_ = new (memory_) std::atomic<std::size_t>(0);
    for (std::size_t i = 0; i < count_; ++i) {
        new (memory_ + kLine + i * stride_) std::atomic<std::uint32_t>(0);
    }
}

SharedSlots::~SharedSlots() {
    ::munmap(memory_, bytes_);
}

std::atomic<std::uint32_t>& SharedSlots::holders_of(std::size_t slot) const {
    return *std::launder(
        reinterpret_cast<std::atomic<std::uint32_t>*>(memory_ + kLine + slot * stride_));
}

void* SharedSlots::claim() {
    // Slots are taken lowest first, so the used prefix stays as short as the most writers ever
    // held at once, and a reader sums only that.
    for (std::size_t i = 0; i + 1 < count_; ++i) {
        std::atomic<std::uint32_t>& holders = holders_of(i);
        std::uint32_t expected = 0;
        if (holders.load(std::memory_order_relaxed) == 0 &&
            holders.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
            std::size_t used = used_->load(std::memory_order_relaxed);
            while (used < i + 1 && !used_->compare_exchange_weak(used, i + 1)) {
            }
            return memory_ + kLine + i * stride_ + kLine;
        }
    }
    used_->store(count_, std::memory_order_relaxed);
    holders_of(count_ - 1).fetch_add(1, std::memory_order_relaxed);
    return memory_ + kLine + (count_ - 1) * stride_ + kLine;
}

void SharedSlots::release(void* payload) {
    if (payload == nullptr) return;
    std::size_t slot =
        static_cast<std::size_t>(static_cast<char*>(payload) - kLine - memory_ - kLine) / stride_;
    holders_of(slot).fetch_sub(1, std::memory_order_acq_rel);
}

std::size_t SharedSlots::used() const {
    std::size_t used = used_->load(std::memory_order_acquire);
    return used < count_ ? used : count_;
}

const void* SharedSlots::payload(std::size_t slot) const {
    return memory_ + kLine + slot * stride_ + kLine;
}

std::uint32_t SharedSlots::holders(std::size_t slot) const {
    return holders_of(slot).load(std::memory_order_relaxed);
}

}  // namespace c10k::core
