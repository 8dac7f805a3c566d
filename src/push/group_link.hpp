#pragma once
// The machine-local hub of a --processes group: process 0 (the sequencer: it alone serves the
// publish listener, so it alone assigns ids) sends every publish and delete to each other
// process over a unix stream socket, one per process, created before the fork. Each process
// keeps a replica of the Registry (history included), so a subscriber that resumes with
// Last-Event-ID on any process gets what it missed.
//
// Why a socket per process rather than a shared-memory ring: the stream keeps each channel's
// messages in order with no shared state to corrupt, a process that dies is an EOF rather than a
// lock held forever, the kernel buffers a burst (4 MB per link) without a ring size to choose,
// and the cost — one write per process per publish — is small beside the fan-out it feeds. A
// ring would save that copy for very large groups, which one machine does not have.
//
// The link is two-way: the other processes report upstream how many subscribers they hold per
// channel (a `counts` frame: the channels whose count changed since the last report, about once a
// second, and every nonzero count when the link is made), so that the sequencer can answer with
// the group's total. Reports are absolute counts, not differences: a report that crossed a
// channel's deletion (and re-created it on the sequencer) is corrected by the next one, and the
// sequencer needs no history of a process beyond its last count per channel.
//
// This file is the wire format (sans-I/O): frames of
//   u32 length-of-rest | u8 kind | u64 id | i64 published_ms |
//   u32 channel | u32 event | u32 content_type | u32 data | the four byte strings
// in the host's byte order (both ends are the same binary on the same machine). A counts frame
// puts its number of entries in `id`, leaves the first three strings empty, and packs the
// entries in `data`, each as  u64 subscribers | u32 name length | name.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "push/message.hpp"

namespace c10k::push {

/// One channel's subscriber count in one process, as a counts frame reports it.
struct ChannelCount {
    std::string channel;
    std::uint64_t subscribers = 0;

    friend bool operator==(const ChannelCount&, const ChannelCount&) = default;
};

struct GroupFrame {
    /// publish and remove go from the sequencer to the others; counts goes the other way.
    enum class Kind : std::uint8_t { publish = 1, remove = 2, counts = 3 };
    Kind kind = Kind::publish;
    std::string channel;               ///< publish and remove
    MessagePtr message;                ///< publish only
    std::vector<ChannelCount> counts;  ///< counts only
};

/// Appends a publish of `message` (with its id) on `channel`.
void encode_publish(std::string& out, std::string_view channel, const Message& message);
/// Appends the deletion of `channel`.
void encode_remove(std::string& out, std::string_view channel);

/// Appends `counts` as one or more counts frames (a large table is split, so that no frame
/// nears the size a reader refuses). Appends nothing when `counts` is empty.
void encode_counts(std::string& out, const std::vector<ChannelCount>& counts);

/// Takes every complete frame off the front of `buffer` into `out`. False when the buffer holds
/// something that is not a frame (the link is then unusable and should be closed).
bool decode_frames(std::string& buffer, std::vector<GroupFrame>& out);

}  // namespace c10k::push
