#pragma once
// The FastCGI 1.0 wire format (the specification of 1996, as php-fpm speaks it): every message
// is a record of an 8-byte header (version, type, request id, content length, padding length)
// then content and padding. This file writes what a web server sends: BEGIN_REQUEST, PARAMS as
// name-value pairs, STDIN, ABORT_REQUEST. What the application sends is read by RecordParser.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace c10k::fastcgi {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 8;
/// A record's content length is 16 bits: longer data is split across records.
constexpr std::size_t kMaxContent = 65535;

enum class RecordType : std::uint8_t {
    begin_request = 1,
    abort_request = 2,
    end_request = 3,
    params = 4,
    stdin_data = 5,
    stdout_data = 6,
    stderr_data = 7,
    data = 8,
    get_values = 9,
    get_values_result = 10,
    unknown_type = 11,
};

constexpr std::uint16_t kRoleResponder = 1;
constexpr std::uint8_t kKeepConn = 1;

/// END_REQUEST's protocol status.
enum class ProtocolStatus : std::uint8_t {
    request_complete = 0,
    cant_mpx_conn = 1,
    overloaded = 2,
    unknown_role = 3,
};

/// Appends one or more records of `type` carrying `content` (split at kMaxContent), each padded
/// to a multiple of 8 bytes as the specification recommends. Empty content appends one empty
/// record: the end of a PARAMS or STDIN stream.
void append_records(std::string& out, RecordType type, std::uint16_t request_id,
                    std::string_view content);

/// BEGIN_REQUEST with role RESPONDER; `keep_conn`: the application keeps the connection open
/// after the request (FCGI_KEEP_CONN), so that the pool can reuse it.
void append_begin_request(std::string& out, std::uint16_t request_id, bool keep_conn);

/// ABORT_REQUEST for `request_id`.
void append_abort_request(std::string& out, std::uint16_t request_id);

/// GET_VALUES (request id 0) asking for FCGI_MPXS_CONNS, FCGI_MAX_CONNS and FCGI_MAX_REQS.
void append_get_values(std::string& out);

/// Sets the request id of every record in `records` (whole records only): a request's records
/// are framed before it is given an id on a multiplexed connection.
void set_request_id(std::string& records, std::uint16_t request_id);

/// One name-value pair: lengths below 128 in one byte, longer in four (high bit set).
void append_pair(std::string& out, std::string_view name, std::string_view value);

/// BEGIN_REQUEST, then the PARAMS stream of `environment` ("NAME=value" strings, as
/// cgi::cgi_environment makes them) ended by its empty record: everything before STDIN.
std::string encode_request_head(std::uint16_t request_id, bool keep_conn,
                                const std::vector<std::string>& environment);

/// Name-value pairs from a PARAMS or GET_VALUES_RESULT content. False when a length runs past
/// the end (a truncated or malformed pair).
bool parse_pairs(std::string_view content, std::vector<std::pair<std::string, std::string>>& out);

}  // namespace c10k::fastcgi
