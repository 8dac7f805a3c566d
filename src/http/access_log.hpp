#pragma once
// The access log in the combined format nginx and Apache write, or as one JSON object per line
// (for log shippers that would otherwise parse combined with a regex), buffered per loop: a line
// costs a few appends to memory, and the buffer goes to the file in one write when it fills or once
// a second, so logging does not add a syscall per request.

#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace c10k::http {

enum class AccessLogFormat : std::uint8_t { combined, json };

class AccessLog {
public:
    /// `fd` is shared by all loops (opened with O_APPEND, so whole-buffer writes do not
    /// interleave mid-line); the AccessLog does not own it.
    explicit AccessLog(int fd, AccessLogFormat format = AccessLogFormat::combined,
                       std::size_t flush_bytes = 64 * 1024);
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    void record(std::string_view peer, const Request& request, int status, std::uint64_t body_bytes,
                std::int64_t now_seconds);
    /// Writes what is buffered; engines call it about once a second and at exit.
    void flush();

private:
    void append_quoted(std::string_view text);
    void append_json(std::string_view text);
    void append_number(std::uint64_t value);
    /// time_text_ for `now_seconds` in strftime `format` (one format per log).
    void cache_time(std::int64_t now_seconds, const char* format);
    void record_json(std::string_view peer, const Request& request, int status,
                     std::uint64_t body_bytes, std::int64_t now_seconds);

    int fd_;
    AccessLogFormat format_;
    std::size_t flush_bytes_;
    std::string buffer_;
    std::int64_t time_second_ = -1;
    std::string time_text_;  ///< "[10/Oct/2000:13:55:36 +0000]" for time_second_
};

}  // namespace c10k::http
