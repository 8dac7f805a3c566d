#pragma once
// What one bench loop measured, in a form that merges across threads and travels through a pipe
// from worker processes: latency histograms, errors by kind, responses by status code, and the
// fate of connection attempts.

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/histogram.hpp"

namespace c10k::bench {

/// Why a request failed. Each failed request counts once, under the first reason seen.
enum class ErrorKind : std::uint8_t {
    connect_refused,  ///< ECONNREFUSED: nothing listens there
    connect_timeout,  ///< the connect did not complete within --connect-timeout
    connect_other,    ///< any other connect failure (EADDRNOTAVAIL, ENETUNREACH, EMFILE...)
    reset,            ///< ECONNRESET / EPIPE while the request was outstanding
    closed_early,     ///< the server closed the connection before the response was complete
    read_timeout,     ///< no complete response within --timeout of writing the request
    bad_status_line,  ///< the response did not start with a valid "HTTP/1.x NNN" line
    parse_error,      ///< the status line was fine but the rest is not valid HTTP/1.1
    count_,
};

inline constexpr std::size_t error_kind_count = static_cast<std::size_t>(ErrorKind::count_);

/// The name used in reports and in the JSON schema ("connect_refused", ...).
const char* error_kind_name(ErrorKind kind);

/// Errno name for reports ("ECONNREFUSED"); falls back to "errno N".
std::string errno_name(int code);

/// Counters of one run, or of one thread of it.
struct RunStats {
    /// From the intended send time: includes waiting behind a slow response (no coordinated
    /// omission). Microseconds.
    core::Histogram corrected;
    /// From the moment the request was actually written. Microseconds.
    core::Histogram uncorrected;
    /// Corrected latency of the 200 responses only: under overload control the fast 503s
    /// would otherwise hide how long the admitted requests waited. Microseconds.
    core::Histogram ok_corrected;
    /// 200 responses within --deadline of their intended send time (0 without --deadline).
    std::uint64_t good = 0;
    /// Responses completed for requests intended within the measured interval.
    std::uint64_t requests = 0;
    std::uint64_t bytes_read = 0;
    std::array<std::uint64_t, error_kind_count> errors{};
    /// Responses by status code (100..999).
    std::map<int, std::uint64_t> status;

    std::uint64_t connections_target = 0;  ///< sending + idle connections asked for
    std::uint64_t connections_idle = 0;    ///< of which idle
    std::uint64_t connections_open = 0;    ///< open at the end of the measured interval
    std::uint64_t connections_failed = 0;  ///< of the initial connects, those that failed
    std::map<int, std::uint64_t> connect_failures;  ///< initial connect failures by errno
    std::uint64_t reconnects = 0;          ///< connections opened again after a close

    std::uint64_t total_errors() const;
    void count_error(ErrorKind kind, std::uint64_t times = 1) {
        errors[static_cast<std::size_t>(kind)] += times;
    }
    void merge(const RunStats& other);
    /// Binary form for the pipe from a worker process.
    std::vector<std::uint8_t> serialize() const;
    bool deserialize(std::span<const std::uint8_t> bytes);
};

}  // namespace c10k::bench
