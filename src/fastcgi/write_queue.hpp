#pragma once
// What a multiplexed connection has to send, per request: each request's records wait in a lane
// of their own, and the socket is given whole records, one lane after another in turn (round
// robin), so that a large body going up does not hold back the start of another request, and
// no record is ever split by another request's bytes (a record in progress is always finished
// before the next one starts, even when its request is dropped meanwhile).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace c10k::fastcgi {

class WriteQueue {
public:
    /// Appends `records` of request `id`: whole records only (FastCGI headers included).
    void push(std::uint16_t id, std::string_view records);
    bool empty() const { return current_left_ == 0 && turns_.empty(); }
    /// The bytes to send next: the rest of the record in progress, else the next record of the
    /// lane whose turn it is. Empty when nothing waits.
    std::string_view next();
    /// `n` bytes of next() went out.
    void sent(std::size_t n);
    /// Bytes of `id` not sent yet.
    std::size_t queued(std::uint16_t id) const;
    /// Drops what `id` has queued, except the rest of a record in progress. True when some
    /// byte of `id` has gone out since begin(id): the application has heard of the request.
    bool drop(std::uint16_t id);
    /// `id` starts a new request: nothing of it has gone out yet.
    void begin(std::uint16_t id);

private:
    struct Lane {
        std::string bytes;
        std::size_t offset = 0;  ///< of bytes: sent already
        bool in_turn = false;    ///< listed in turns_
        bool started = false;
    };
    Lane& lane(std::uint16_t id);

    std::vector<Lane> lanes_;          ///< by request id
    std::deque<std::uint16_t> turns_;  ///< lanes with a record waiting, in turn
    std::uint16_t current_ = 0;        ///< the lane whose record is in progress
    std::size_t current_left_ = 0;     ///< bytes of that record not sent yet
};

}  // namespace c10k::fastcgi
