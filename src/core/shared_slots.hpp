#pragma once
// Slots in one shared, anonymous mapping made before any fork, so that every thread and process
// of a server writes its own slot and a reader in any of them sums them all: the counters'
// boards (http/metrics.hpp, proxy/board.hpp) sit on this. Each slot starts with a cache line of
// its own holding the count of writers that hold it; the payload follows, zero-filled at first.
// Untouched slots cost no memory (MAP_NORESERVE, pages made on first write).

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace c10k::core {

class SharedSlots {
public:
    /// `payload_bytes` per slot. Throws std::runtime_error (naming `what`) when mmap fails.
    SharedSlots(std::size_t slots, std::size_t payload_bytes, const char* what);
    ~SharedSlots();
    SharedSlots(const SharedSlots&) = delete;
    SharedSlots& operator=(const SharedSlots&) = delete;

    /// The payload of a slot for one writer until release(). Never null: when every slot is
    /// held, the last one, shared (its counts then lose exactness, not safety).
    void* claim();
    void release(void* payload);

    /// One past the highest slot ever claimed: a reader sums slots [0, used()).
    std::size_t used() const;
    const void* payload(std::size_t slot) const;
    /// Writers holding slot `slot` now.
    std::uint32_t holders(std::size_t slot) const;

private:
    std::atomic<std::uint32_t>& holders_of(std::size_t slot) const;

    char* memory_;
    std::size_t count_;
    std::size_t stride_;
    std::size_t bytes_;
    std::atomic<std::size_t>* used_;
};

}  // namespace c10k::core
