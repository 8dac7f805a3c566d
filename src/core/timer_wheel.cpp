#include "core/timer_wheel.hpp"

namespace c10k::core {

TimerWheel::TimerWheel(std::int64_t now_ms, std::int64_t slot_ms, std::size_t slots)
    : slot_ms_(slot_ms > 0 ? slot_ms : 1) {
    std::size_t count = 64;
    while (count < slots) count <<= 1;  // a power of two, so the slot is a mask away
    mask_ = count - 1;
    heads_.resize(count);
    for (auto& head : heads_) head.prev = head.next = &head;
    occupied_.assign(count / 64, 0);
    expired_.prev = expired_.next = &expired_;
    current_tick_ = now_ms / slot_ms_;
}

TimerWheel::~TimerWheel() {
    // Leave owners' nodes in a clean, unscheduled state: they may outlive the wheel.
    for (auto& head : heads_) {
        while (head.next != &head) unlink(*head.next);
    }
    while (expired_.next != &expired_) unlink(*expired_.next);
}

void TimerWheel::unlink(TimerNode& node) {
    node.prev->next = node.next;
    node.next->prev = node.prev;
    node.prev = node.next = nullptr;
}

void TimerWheel::link_before(TimerNode& head, TimerNode& node) {
    node.prev = head.prev;
    node.next = &head;
    head.prev->next = &node;
    head.prev = &node;
}

void TimerWheel::cancel(TimerNode& node) {
    if (!node.scheduled()) return;
    unlink(node);
    --size_;
}

void TimerWheel::mark(std::size_t slot, bool nonempty) {
    std::uint64_t bit = std::uint64_t{1} << (slot & 63);
    if (nonempty) {
        occupied_[slot >> 6] |= bit;
    } else {
        occupied_[slot >> 6] &= ~bit;
    }
}

void TimerWheel::schedule(TimerNode& node, std::int64_t expires_ms) {
    if (node.scheduled()) {
        unlink(node);
        --size_;
    }
    node.expires_ms = expires_ms;
    std::int64_t tick = expires_ms / slot_ms_;
    if (tick < current_tick_) tick = current_tick_;  // overdue: fire at the next advance
    std::size_t slot = slot_of(tick);
    link_before(heads_[slot], node);
    mark(slot, true);
    ++size_;
}

void TimerWheel::collect_expired(std::int64_t now_ms) {
    std::int64_t now_tick = now_ms / slot_ms_;
    if (now_tick < current_tick_) return;
    // More than a revolution behind: every slot is visited once.
    std::int64_t last = now_tick;
    if (last - current_tick_ >= static_cast<std::int64_t>(heads_.size())) {
        last = current_tick_ + static_cast<std::int64_t>(heads_.size()) - 1;
    }
    for (std::int64_t tick = current_tick_; tick <= last; ++tick) {
        std::size_t slot = slot_of(tick);
        if (!(occupied_[slot >> 6] & (std::uint64_t{1} << (slot & 63)))) continue;
        TimerNode& head = heads_[slot];
        TimerNode* node = head.next;
        while (node != &head) {
            TimerNode* next = node->next;
            if (node->expires_ms <= now_ms) {
                unlink(*node);
                link_before(expired_, *node);
            }
            node = next;
        }
        mark(slot, head.next != &head);
    }
    // Slot now_tick may hold timers due later within this tick; revisit it next time.
    current_tick_ = now_tick;
}

std::int64_t TimerWheel::next_timeout_ms(std::int64_t now_ms) const {
    if (size_ == 0) return -1;
    if (expired_.next != &expired_) return 0;
    std::size_t words = occupied_.size();
    std::size_t start = slot_of(current_tick_);
    // Scan the occupancy bitmap from the current slot, wrapping once.
    for (std::size_t i = 0; i <= words; ++i) {
        std::size_t word_index = ((start >> 6) + i) % words;
        std::uint64_t word = occupied_[word_index];
        if (i == 0) word &= ~std::uint64_t{0} << (start & 63);
        if (i == words) word &= (start & 63) ? ~(~std::uint64_t{0} << (start & 63)) : 0;
        if (word == 0) continue;
        std::size_t slot = word_index * 64 + static_cast<std::size_t>(__builtin_ctzll(word));
        std::size_t distance = (slot - start) & mask_;
        std::int64_t due = (current_tick_ + static_cast<std::int64_t>(distance) + 1) * slot_ms_;
        // A slot's timers fire once the tick after it has begun, so wait until its end.
        return due > now_ms ? due - now_ms : 0;
    }
    return -1;
}

}  // namespace c10k::core
