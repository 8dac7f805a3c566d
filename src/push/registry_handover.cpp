// The Registry's part of a handover (reload, upgrade): the old process writes every channel
// with its ids and history, the new one reads them back before its subscribers are answered.
// Both processes run on the same machine (the new binary was started by the old), so numbers
// are written in the machine's own byte order; a version tag refuses another layout.

#include <cstring>
#include <memory>

#include "push/registry.hpp"

namespace c10k::push {

namespace {

constexpr std::string_view kTag = "c10k-push-registry-1\n";

void put_u64(std::string& out, std::uint64_t value) {
    char bytes[sizeof value];
    std::memcpy(bytes, &value, sizeof value);
    out.append(bytes, sizeof value);
}

void put_text(std::string& out, std::string_view text) {
    put_u64(out, text.size());
    out.append(text);
}

/// Reads what put_u64/put_text wrote; every read checks the bounds, and a failed one makes
/// every later read fail too.
class Reader {
public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    bool u64(std::uint64_t& value) {
        if (!ok_ || bytes_.size() - at_ < sizeof value) return ok_ = false;
        std::memcpy(&value, bytes_.data() + at_, sizeof value);
        at_ += sizeof value;
        return true;
    }
    bool text(std::string& value) {
        std::uint64_t size = 0;
        if (!u64(size) || bytes_.size() - at_ < size) return ok_ = false;
        value.assign(bytes_.data() + at_, size);
        at_ += size;
        return true;
    }
    bool tag(std::string_view expected) {
        if (bytes_.substr(0, expected.size()) != expected) return ok_ = false;
        at_ = expected.size();
        return true;
    }
    bool ok() const { return ok_; }

private:
    std::string_view bytes_;
    std::size_t at_ = 0;
    bool ok_ = true;
};

struct SavedChannel {
    std::string name;
    std::uint64_t first_id = 0;
    std::uint64_t next_id = 0;
    std::uint64_t last_id = 0;
    std::vector<MessagePtr> messages;
};

bool read_channels(std::string_view bytes, std::uint64_t& floor,
                   std::vector<SavedChannel>& channels) {
    Reader in(bytes);
    std::uint64_t count = 0;
    if (!in.tag(kTag) || !in.u64(floor) || !in.u64(count)) return false;
    for (std::uint64_t c = 0; c < count && in.ok(); ++c) {
        SavedChannel channel;
        std::uint64_t messages = 0;
        in.text(channel.name);
        in.u64(channel.first_id);
        in.u64(channel.next_id);
        in.u64(channel.last_id);
        in.u64(messages);
        for (std::uint64_t m = 0; m < messages && in.ok(); ++m) {
            auto message = std::make_shared<Message>();
            std::uint64_t published = 0;
            in.u64(message->id);
            in.u64(message->prev_id);
            in.u64(published);
            message->published_ms = static_cast<std::int64_t>(published);
            in.text(message->event);
            in.text(message->data);
            in.text(message->content_type);
            channel.messages.push_back(std::move(message));
        }
        channels.push_back(std::move(channel));
    }
    return in.ok();
}

}  // namespace

void Registry::await_handover() {
    std::lock_guard lock(mutex_);
    awaiting_ = true;
}

bool Registry::awaiting_handover() const {
    std::lock_guard lock(mutex_);
    return awaiting_;
}

std::string Registry::snapshot() const {
    std::lock_guard lock(mutex_);
    std::string out(kTag);
    put_u64(out, retired_floor_);
    put_u64(out, channels_.size());
    for (const auto& [name, channel] : channels_) {
        put_text(out, name);
        put_u64(out, channel.first_id);
        put_u64(out, channel.next_id);
        put_u64(out, channel.last_id);
        // Every held message, oldest first.
        std::vector<MessagePtr> held = channel.history.newest(channel.history.size());
        put_u64(out, held.size());
        for (const auto& message : held) {
            put_u64(out, message->id);
            put_u64(out, message->prev_id);
            put_u64(out, static_cast<std::uint64_t>(message->published_ms));
            put_text(out, message->event);
            put_text(out, message->data);
            put_text(out, message->content_type);
        }
    }
    return out;
}

bool Registry::restore(std::string_view bytes, std::int64_t now_ms, std::vector<Restored>& ready) {
    std::uint64_t floor = 0;
    std::vector<SavedChannel> saved;
    bool readable = !bytes.empty() && read_channels(bytes, floor, saved);
    std::lock_guard lock(mutex_);
    awaiting_ = false;
    if (readable) {
        retired_floor_ = std::max(retired_floor_, floor);
        for (auto& channel : saved) {
            // A channel a waiting subscriber created here keeps its incarnation (the subscriber
            // holds it) and takes the old process's ids and history.
            Channel& state = find_or_create(channel.name, now_ms);
            // In a --processes group, a process may have received the new sequencer's first
            // messages (which continue the old ids) before its own copy of the snapshot: they
            // go after the snapshot's, where the chain puts them.
            std::vector<MessagePtr> arrived = state.history.newest(state.history.size());
            if (state.subscribers == 0 && arrived.empty()) state.first_id = channel.first_id;
            state.history.clear();
            state.next_id = channel.next_id;
            state.last_id = channel.last_id;
            for (auto& message : channel.messages) state.history.append(std::move(message));
            for (auto& message : arrived) {
                if (message->id <= state.last_id) continue;
                state.last_id = message->id;
                state.next_id = message->id + 1;
                state.history.append(std::move(message));
            }
            state.history.prune(now_ms);
        }
    }
    for (auto& [name, channel] : channels_) {
        if (channel.subscribers == 0) continue;
        ready.push_back(Restored{name, loops_with_subscribers(channel), channel.last_id});
    }
    return readable;
}

}  // namespace c10k::push
