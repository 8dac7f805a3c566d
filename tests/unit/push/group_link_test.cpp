// The wire format of the --processes push hub: frames survive any split, and garbage is refused.

#include <gtest/gtest.h>

#include "push/group_link.hpp"

namespace c10k::push {
namespace {

Message sample(std::uint64_t id, std::string data) {
    Message m;
    m.id = id;
    m.event = "update";
    m.content_type = "application/json";
    m.data = std::move(data);
    m.published_ms = 1'700'000'000'123;
    return m;
}

TEST(GroupLink, PublishAndRemoveRoundTrip) {
    std::string wire;
    encode_publish(wire, "score", sample(42, "line1\nline2"));
    encode_remove(wire, "gone");
    encode_publish(wire, "score", sample(43, ""));
    std::vector<GroupFrame> frames;
    ASSERT_TRUE(decode_frames(wire, frames));
    EXPECT_TRUE(wire.empty());
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].kind, GroupFrame::Kind::publish);
    EXPECT_EQ(frames[0].channel, "score");
    EXPECT_EQ(frames[0].message->id, 42u);
    EXPECT_EQ(frames[0].message->event, "update");
    EXPECT_EQ(frames[0].message->content_type, "application/json");
    EXPECT_EQ(frames[0].message->data, "line1\nline2");
    EXPECT_EQ(frames[0].message->published_ms, 1'700'000'000'123);
    EXPECT_EQ(frames[1].kind, GroupFrame::Kind::remove);
    EXPECT_EQ(frames[1].channel, "gone");
    EXPECT_EQ(frames[1].message, nullptr);
    EXPECT_EQ(frames[2].message->id, 43u);
    EXPECT_EQ(frames[2].message->data, "");
}

TEST(GroupLink, FramesSplitAnywhereAreDecodedWhole) {
    std::string wire;
    for (std::uint64_t id = 1; id <= 5; ++id) {
        encode_publish(wire, "c", sample(id, std::string(id * 100, 'x')));
    }
    std::string buffer;
    std::vector<GroupFrame> frames;
    for (char byte : wire) {
        buffer.push_back(byte);
        ASSERT_TRUE(decode_frames(buffer, frames));
    }
    ASSERT_EQ(frames.size(), 5u);
    for (std::uint64_t id = 1; id <= 5; ++id) {
        EXPECT_EQ(frames[id - 1].message->id, id);
        EXPECT_EQ(frames[id - 1].message->data.size(), id * 100);
    }
    EXPECT_TRUE(buffer.empty());
}

TEST(GroupLink, GarbageIsRefused) {
    std::string wire = "this is not a frame at all, and it is long enough";
    std::vector<GroupFrame> frames;
    EXPECT_FALSE(decode_frames(wire, frames));
    std::string bad_kind;
    encode_remove(bad_kind, "x");
    bad_kind[4] = 9;
    EXPECT_FALSE(decode_frames(bad_kind, frames));
    std::string bad_sizes;
    encode_publish(bad_sizes, "x", sample(1, "abc"));
    bad_sizes[4 + 17] = 100;  // the channel's length no longer adds up
    EXPECT_FALSE(decode_frames(bad_sizes, frames));
    EXPECT_TRUE(frames.empty());
}

}  // namespace
}  // namespace c10k::push
