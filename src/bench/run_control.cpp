#include "bench/run_control.hpp"

#include <sys/mman.h>

#include <new>
#include <stdexcept>

namespace c10k::bench {

SharedControl::SharedControl(std::uint32_t loops) : loops_(loops) {
    size_ = sizeof(LiveCounters) * (loops + 1);  // slot 0 holds the RunControl, padded
    static_assert(sizeof(RunControl) <= sizeof(LiveCounters));
    mapping_ = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mapping_ == MAP_FAILED) throw std::runtime_error("cannot map shared run control memory");
    control_ = new (mapping_) RunControl();
    live_ = reinterpret_cast<LiveCounters*>(static_cast<char*>(mapping_) + sizeof(LiveCounters));
    for (std::uint32_t i = 0; i < loops; ++i) new (&live_[i]) LiveCounters();
}

SharedControl::~SharedControl() {
    if (mapping_ != nullptr && mapping_ != MAP_FAILED) munmap(mapping_, size_);
}

}  // namespace c10k::bench
