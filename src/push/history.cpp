#include "push/history.hpp"

#include <algorithm>

namespace c10k::push {

void History::append(MessagePtr message) {
    if (limits_.max_messages == 0) return;
    messages_.push_back(std::move(message));
    while (messages_.size() > limits_.max_messages) messages_.pop_front();
}

void History::prune(std::int64_t now_ms) {
    if (limits_.max_age_ms <= 0) return;
    while (!messages_.empty() && now_ms - messages_.front()->published_ms > limits_.max_age_ms) {
        messages_.pop_front();
    }
}

History::Since History::since(std::uint64_t after_id, std::uint64_t last_assigned) const {
    Since result;
    if (after_id > last_assigned) {
        result.lost = true;
        result.messages.assign(messages_.begin(), messages_.end());
        return result;
    }
    if (after_id == last_assigned) return result;  // up to date: nothing missed, nothing to send
    // From here after_id < last_assigned, so after_id + 1 cannot overflow, and the client missed
    // the ids after_id + 1 .. last_assigned.
    if (messages_.empty() || messages_.front()->id > after_id + 1) {
        result.lost = true;
        result.messages.assign(messages_.begin(), messages_.end());
        return result;
    }
    // A binary search rather than an offset from the front: it stays right even for a caller
    // whose ids are increasing but not consecutive.
    auto first = std::partition_point(messages_.begin(), messages_.end(),
                                      [&](const MessagePtr& m) { return m->id <= after_id; });
    result.messages.assign(first, messages_.end());
    return result;
}

std::vector<MessagePtr> History::newest(std::size_t count) const {
    std::size_t n = std::min(count, messages_.size());
    return {messages_.end() - static_cast<std::ptrdiff_t>(n), messages_.end()};
}

}  // namespace c10k::push
