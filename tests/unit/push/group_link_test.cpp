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

TEST(GroupLink, CountsRoundTripBesideOtherFrames) {
    std::vector<ChannelCount> counts = {{"score", 12}, {"gone", 0}, {"big", 1ull << 40}};
    std::string wire;
    encode_counts(wire, counts);
    encode_remove(wire, "x");
    std::vector<GroupFrame> frames;
    ASSERT_TRUE(decode_frames(wire, frames));
    EXPECT_TRUE(wire.empty());
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].kind, GroupFrame::Kind::counts);
    EXPECT_EQ(frames[0].counts, counts);
    EXPECT_EQ(frames[0].message, nullptr);
    EXPECT_EQ(frames[1].kind, GroupFrame::Kind::remove);
    EXPECT_TRUE(frames[1].counts.empty());
}

TEST(GroupLink, NoCountsNoFrame) {
    std::string wire;
    encode_counts(wire, {});
    EXPECT_TRUE(wire.empty());
}

TEST(GroupLink, LargeCountTablesAreSplitAndSurviveAnySplit) {
    // A process's full table at reconnection: thousands of channels with long names.
    std::vector<ChannelCount> counts;
    for (std::uint64_t i = 0; i < 6000; ++i) {
        counts.push_back(
            {std::string(120, 'a' + static_cast<char>(i % 26)) + std::to_string(i), i * 7});
    }
    std::string wire;
    encode_counts(wire, counts);
    std::vector<GroupFrame> frames;
    std::string whole = wire;
    ASSERT_TRUE(decode_frames(whole, frames));
    ASSERT_GT(frames.size(), 1u) << "one frame of " << wire.size() << " bytes";
    std::vector<ChannelCount> decoded;
    for (auto& frame : frames) {
        EXPECT_EQ(frame.kind, GroupFrame::Kind::counts);
        decoded.insert(decoded.end(), frame.counts.begin(), frame.counts.end());
    }
    EXPECT_EQ(decoded, counts);

    // The same bytes in uneven pieces give the same entries.
    frames.clear();
    decoded.clear();
    std::string buffer;
    for (std::size_t at = 0; at < wire.size(); at += 997) {
        buffer.append(wire, at, 997);
        ASSERT_TRUE(decode_frames(buffer, frames));
    }
    EXPECT_TRUE(buffer.empty());
    for (auto& frame : frames) {
        decoded.insert(decoded.end(), frame.counts.begin(), frame.counts.end());
    }
    EXPECT_EQ(decoded, counts);
}

TEST(GroupLink, MalformedCountsAreRefused) {
    std::vector<GroupFrame> frames;
    // The header's offsets: u32 rest, u8 kind, u64 id (entries) at 5, the four sizes from 21,
    // the data (first entry: u64 subscribers, u32 name length) from 37.
    std::string more_entries;
    encode_counts(more_entries, {{"abc", 1}});
    more_entries[5] = 2;  // says two entries, carries one
    EXPECT_FALSE(decode_frames(more_entries, frames));
    std::string huge_entries;
    encode_counts(huge_entries, {{"abc", 1}});
    huge_entries[12] = 0x7f;  // an entry count no data could hold: refused before reserving
    EXPECT_FALSE(decode_frames(huge_entries, frames));
    std::string long_name;
    encode_counts(long_name, {{"abc", 1}});
    long_name[37 + 8] = 4;  // the name overruns the data
    EXPECT_FALSE(decode_frames(long_name, frames));
    std::string short_name;
    encode_counts(short_name, {{"abc", 1}});
    short_name[37 + 8] = 2;  // a byte left over after the last entry
    EXPECT_FALSE(decode_frames(short_name, frames));
    std::string named;
    encode_counts(named, {{"abc", 1}});
    named[21] = 1;   // a channel string in a counts frame...
    named[33] -= 1;  // ...with the sizes still adding up
    EXPECT_FALSE(decode_frames(named, frames));
    EXPECT_TRUE(frames.empty());
}

}  // namespace
}  // namespace c10k::push
