#include "fastcgi/write_queue.hpp"

#include <algorithm>

#include "fastcgi/protocol.hpp"

namespace c10k::fastcgi {

WriteQueue::Lane& WriteQueue::lane(std::uint16_t id) {
    if (lanes_.size() <= id) lanes_.resize(static_cast<std::size_t>(id) + 1);
    return lanes_[id];
}

void WriteQueue::push(std::uint16_t id, std::string_view records) {
    if (records.empty()) return;
    Lane& to = lane(id);
    to.bytes.append(records);
    if (!to.in_turn && !(current_left_ > 0 && current_ == id)) {
        to.in_turn = true;
        turns_.push_back(id);
    }
}

std::string_view WriteQueue::next() {
    if (current_left_ == 0) {
        if (turns_.empty()) return {};
        current_ = turns_.front();
        turns_.pop_front();
        Lane& from = lanes_[current_];
        from.in_turn = false;
        auto byte = [&](std::size_t i) {
            return static_cast<unsigned char>(from.bytes[from.offset + i]);
        };
        current_left_ =
            kHeaderBytes + ((static_cast<std::size_t>(byte(4)) << 8) | byte(5)) + byte(6);
    }
    const Lane& from = lanes_[current_];
    return std::string_view(from.bytes).substr(from.offset, current_left_);
}

void WriteQueue::sent(std::size_t n) {
    Lane& from = lanes_[current_];
    from.offset += n;
    from.started = true;
    current_left_ -= n;
    if (current_left_ > 0) return;
    if (from.offset == from.bytes.size()) {
        from.bytes.clear();
        from.offset = 0;
    } else {
        // The lane goes to the back of the turns: one record each, in turn.
        if (from.offset >= 64 * 1024) {
            from.bytes.erase(0, from.offset);
            from.offset = 0;
        }
        from.in_turn = true;
        turns_.push_back(current_);
    }
}

std::size_t WriteQueue::queued(std::uint16_t id) const {
    if (id >= lanes_.size()) return 0;
    return lanes_[id].bytes.size() - lanes_[id].offset;
}

bool WriteQueue::drop(std::uint16_t id) {
    if (id >= lanes_.size()) return false;
    Lane& gone = lanes_[id];
    if (current_left_ > 0 && current_ == id) {
        gone.bytes.resize(gone.offset + current_left_);  // the record in progress ends whole
    } else {
        gone.bytes.clear();
        gone.offset = 0;
    }
    if (gone.in_turn) {
        turns_.erase(std::find(turns_.begin(), turns_.end(), id));
        gone.in_turn = false;
    }
    return gone.started;
}

void WriteQueue::begin(std::uint16_t id) {
    lane(id).started = false;
}

}  // namespace c10k::fastcgi
