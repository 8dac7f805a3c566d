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
    if (after_id == last_assigned) return result;  // up to date: nothing missed, nothing to send
    // The first held message the client has not seen. It continues from what the client saw
    // only when its prev_id is after_id: any other value means something between them is not
    // held (trimmed, aged out, or a stream that was lost), or after_id never was an id of this
    // channel. With nothing held after after_id, the client either missed messages no longer
    // held (after_id < last_assigned) or has one from another incarnation (after_id greater).
    auto first = std::partition_point(messages_.begin(), messages_.end(),
                                      [&](const MessagePtr& m) { return m->id <= after_id; });
    if (first == messages_.end() || (*first)->prev_id != after_id) {
        result.lost = true;
        result.messages.assign(messages_.begin(), messages_.end());
        return result;
    }
    result.messages.assign(first, messages_.end());
    return result;
}

std::vector<MessagePtr> History::newest(std::size_t count) const {
    std::size_t n = std::min(count, messages_.size());
    return {messages_.end() - static_cast<std::ptrdiff_t>(n), messages_.end()};
}

}  // namespace c10k::push
