#include "bench/stats.hpp"
#include "bench/wire.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace c10k::bench {
namespace {

using wire::get;
using wire::get_map;
using wire::put;
using wire::put_map;

}  // namespace

const char* error_kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::connect_refused:
            return "connect_refused";
        case ErrorKind::connect_timeout:
            return "connect_timeout";
        case ErrorKind::connect_other:
            return "connect_other";
        case ErrorKind::reset:
            return "reset";
        case ErrorKind::closed_early:
            return "closed_early";
        case ErrorKind::read_timeout:
            return "read_timeout";
        case ErrorKind::bad_status_line:
            return "bad_status_line";
        case ErrorKind::parse_error:
            return "parse_error";
        case ErrorKind::count_:
            break;
    }
    return "unknown";
}

std::string errno_name(int code) {
    switch (code) {
        case ECONNREFUSED:
            return "ECONNREFUSED";
        case ETIMEDOUT:
            return "ETIMEDOUT";
        case ECONNRESET:
            return "ECONNRESET";
        case EADDRNOTAVAIL:
            return "EADDRNOTAVAIL";
        case EADDRINUSE:
            return "EADDRINUSE";
        case ENETUNREACH:
            return "ENETUNREACH";
        case EHOSTUNREACH:
            return "EHOSTUNREACH";
        case EMFILE:
            return "EMFILE";
        case ENFILE:
            return "ENFILE";
        case ENOBUFS:
            return "ENOBUFS";
        case ENOMEM:
            return "ENOMEM";
        case EACCES:
            return "EACCES";
        case EPERM:
            return "EPERM";
        case EPIPE:
            return "EPIPE";
        default:
            return fmt::format("errno {}", code);
    }
}

std::uint64_t RunStats::total_errors() const {
    std::uint64_t total = 0;
    for (auto count : errors) total += count;
    return total;
}

void RunStats::merge(const RunStats& other) {
    corrected.merge(other.corrected);
    uncorrected.merge(other.uncorrected);
    ok_corrected.merge(other.ok_corrected);
    good += other.good;
    requests += other.requests;
    bytes_read += other.bytes_read;
    for (std::size_t i = 0; i < error_kind_count; ++i) errors[i] += other.errors[i];
    for (auto [code, count] : other.status) status[code] += count;
    connections_target += other.connections_target;
    connections_idle += other.connections_idle;
    connections_open += other.connections_open;
    connections_failed += other.connections_failed;
    for (auto [code, count] : other.connect_failures) connect_failures[code] += count;
    reconnects += other.reconnects;
}

std::vector<std::uint8_t> RunStats::serialize() const {
    std::vector<std::uint8_t> out;
    corrected.serialize(out);
    uncorrected.serialize(out);
    ok_corrected.serialize(out);
    for (auto value : {good, requests, bytes_read, connections_target, connections_idle, connections_open,
                       connections_failed, reconnects}) {
        put(out, value);
    }
    for (auto count : errors) put(out, count);
    put_map(out, status);
    put_map(out, connect_failures);
    return out;
}

bool RunStats::deserialize(std::span<const std::uint8_t> bytes) {
    std::size_t offset = 0;
    if (!corrected.deserialize(bytes, offset) || !uncorrected.deserialize(bytes, offset) ||
        !ok_corrected.deserialize(bytes, offset)) {
        return false;
    }
    for (auto* value : {&good, &requests, &bytes_read, &connections_target, &connections_idle,
                        &connections_open, &connections_failed, &reconnects}) {
        if (!get(bytes, offset, *value)) return false;
    }
    for (auto& count : errors) {
        if (!get(bytes, offset, count)) return false;
    }
    status.clear();
    connect_failures.clear();
    return get_map(bytes, offset, status) && get_map(bytes, offset, connect_failures) &&
           offset == bytes.size();
}

}  // namespace c10k::bench
