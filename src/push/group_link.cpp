#include "push/group_link.hpp"

#include <cstring>

namespace c10k::push {

namespace {

// Larger than any message a publish may carry (--push-max-message), small enough that a
// corrupted length cannot make a process allocate without bound.
constexpr std::uint32_t kMaxFrameBytes = 64u << 20;
constexpr std::size_t kFixedBytes = 1 + 8 + 8 + 4 * 4;
// A counts frame's entry before its name: u64 subscribers, u32 name length.
constexpr std::size_t kCountEntryBytes = 8 + 4;
// Where encode_counts starts a new frame: far below kMaxFrameBytes, and small enough that the
// sequencer decodes a process's full table in pieces rather than in one large buffer.
constexpr std::size_t kCountsFrameBytes = 256 * 1024;

template <class T>
void put(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.append(bytes, sizeof(T));
}

template <class T>
T get(const char* at) {
    T value;
    std::memcpy(&value, at, sizeof(T));
    return value;
}

void encode(std::string& out, GroupFrame::Kind kind, std::string_view channel,
            const Message* message) {
    std::string_view event = message ? std::string_view(message->event) : std::string_view();
    std::string_view type = message ? std::string_view(message->content_type) : std::string_view();
    std::string_view data = message ? std::string_view(message->data) : std::string_view();
    std::size_t rest = kFixedBytes + channel.size() + event.size() + type.size() + data.size();
    put<std::uint32_t>(out, static_cast<std::uint32_t>(rest));
    put<std::uint8_t>(out, static_cast<std::uint8_t>(kind));
    put<std::uint64_t>(out, message ? message->id : 0);
    put<std::int64_t>(out, message ? message->published_ms : 0);
    for (std::string_view part : {channel, event, type, data}) {
        put<std::uint32_t>(out, static_cast<std::uint32_t>(part.size()));
    }
    for (std::string_view part : {channel, event, type, data}) out.append(part);
}

/// Decodes a counts frame's packed entries; false when they do not fill `data` exactly.
bool decode_counts(std::uint64_t entries, std::string_view data, std::vector<ChannelCount>& out) {
    if (entries > data.size() / kCountEntryBytes) return false;
    out.reserve(static_cast<std::size_t>(entries));
    std::size_t at = 0;
    for (std::uint64_t i = 0; i < entries; ++i) {
        if (data.size() - at < kCountEntryBytes) return false;
        ChannelCount count;
        count.subscribers = get<std::uint64_t>(data.data() + at);
        auto length = get<std::uint32_t>(data.data() + at + 8);
        at += kCountEntryBytes;
        if (data.size() - at < length) return false;
        count.channel.assign(data.data() + at, length);
        at += length;
        out.push_back(std::move(count));
    }
    return at == data.size();
}

}  // namespace

void encode_counts(std::string& out, const std::vector<ChannelCount>& counts) {
    std::size_t next = 0;
    while (next < counts.size()) {
        // At least one entry per frame, then as many as fit under kCountsFrameBytes.
        std::size_t end = next;
        std::size_t data_bytes = 0;
        do {
            data_bytes += kCountEntryBytes + counts[end].channel.size();
            ++end;
        } while (end < counts.size() &&
                 data_bytes + kCountEntryBytes + counts[end].channel.size() <= kCountsFrameBytes);
        put<std::uint32_t>(out, static_cast<std::uint32_t>(kFixedBytes + data_bytes));
        put<std::uint8_t>(out, static_cast<std::uint8_t>(GroupFrame::Kind::counts));
        put<std::uint64_t>(out, end - next);
        put<std::int64_t>(out, 0);
        put<std::uint32_t>(out, 0);
        put<std::uint32_t>(out, 0);
        put<std::uint32_t>(out, 0);
        put<std::uint32_t>(out, static_cast<std::uint32_t>(data_bytes));
        for (; next < end; ++next) {
            put<std::uint64_t>(out, counts[next].subscribers);
            put<std::uint32_t>(out, static_cast<std::uint32_t>(counts[next].channel.size()));
            out.append(counts[next].channel);
        }
    }
}

void encode_publish(std::string& out, std::string_view channel, const Message& message) {
    encode(out, GroupFrame::Kind::publish, channel, &message);
}

void encode_remove(std::string& out, std::string_view channel) {
    encode(out, GroupFrame::Kind::remove, channel, nullptr);
}

bool decode_frames(std::string& buffer, std::vector<GroupFrame>& out) {
    std::size_t at = 0;
    while (buffer.size() - at >= 4) {
        auto rest = get<std::uint32_t>(buffer.data() + at);
        if (rest < kFixedBytes || rest > kMaxFrameBytes) return false;
        if (buffer.size() - at - 4 < rest) break;  // incomplete: wait for more
        const char* p = buffer.data() + at + 4;
        auto kind = get<std::uint8_t>(p);
        auto id = get<std::uint64_t>(p + 1);
        auto published = get<std::int64_t>(p + 9);
        std::uint32_t sizes[4];
        std::uint64_t total = 0;
        for (int i = 0; i < 4; ++i) {
            sizes[i] = get<std::uint32_t>(p + 17 + 4 * i);
            total += sizes[i];
        }
        if (total != rest - kFixedBytes) return false;
        const char* strings = p + kFixedBytes;
        GroupFrame frame;
        frame.channel.assign(strings, sizes[0]);
        if (kind == static_cast<std::uint8_t>(GroupFrame::Kind::publish)) {
            auto message = std::make_shared<Message>();
            message->id = id;
            message->prev_id = id - 1;  // the sequencer's ids are consecutive
            message->published_ms = published;
            const char* s = strings + sizes[0];
            message->event.assign(s, sizes[1]);
            s += sizes[1];
            message->content_type.assign(s, sizes[2]);
            s += sizes[2];
            message->data.assign(s, sizes[3]);
            frame.kind = GroupFrame::Kind::publish;
            frame.message = std::move(message);
        } else if (kind == static_cast<std::uint8_t>(GroupFrame::Kind::remove)) {
            frame.kind = GroupFrame::Kind::remove;
        } else if (kind == static_cast<std::uint8_t>(GroupFrame::Kind::counts)) {
            if (sizes[0] != 0 || sizes[1] != 0 || sizes[2] != 0) return false;
            frame.kind = GroupFrame::Kind::counts;
            if (!decode_counts(id, std::string_view(strings, sizes[3]), frame.counts)) {
                return false;
            }
        } else {
            return false;
        }
        out.push_back(std::move(frame));
        at += 4 + rest;
    }
    buffer.erase(0, at);
    return true;
}

}  // namespace c10k::push
