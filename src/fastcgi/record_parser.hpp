#pragma once
// Reads what a FastCGI application sends, incrementally: bytes go in as the socket gives them,
// pieces come out one at a time (pull style, so that the caller may stop between any two, e.g.
// when the client went away). STDOUT and STDERR content comes out as it arrives, never waiting
// for a whole record, so a 64 KiB record costs no buffer; END_REQUEST and GET_VALUES_RESULT,
// whose contents are needed whole, are gathered within a bound. Anything that breaks the
// protocol (a bad version, a record for another request, a type only a web server sends, an
// END_REQUEST of the wrong size) is an error: the caller answers 502 and drops the connection.
// On a multiplexed connection (expect_any) records of every request id are taken, and each
// piece says whose it is, so that the connection can hand it to that request's exchange.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fastcgi/protocol.hpp"

namespace c10k::fastcgi {

struct Piece {
    enum class Kind {
        need_more,      ///< the input is used up
        stdout_data,    ///< `bytes` of the response (CGI output); empty: the stream's end
        stderr_data,    ///< `bytes` of the application's error stream
        end_request,    ///< the request ended: app_status, protocol_status
        values_result,  ///< `bytes`: GET_VALUES_RESULT's name-value pairs
        error,          ///< the application broke the protocol: RecordParser::error() says how
    };
    Kind kind = Kind::need_more;
    std::string_view bytes;        ///< into the caller's input, or the parser's own buffer
    std::uint16_t request_id = 0;  ///< whose piece (0 for management records)
    std::uint32_t app_status = 0;
    ProtocolStatus protocol_status = ProtocolStatus::request_complete;
};

class RecordParser {
public:
    /// `request_id`: the request whose records are expected (0: only management records).
    explicit RecordParser(std::uint16_t request_id = 0) : request_id_(request_id) {}

    void expect(std::uint16_t request_id) { request_id_ = request_id; }
    /// Demultiplexing: STDOUT, STDERR and END_REQUEST of any request id but 0 are taken.
    void expect_any() { any_ = true; }

    /// The next piece from `input`, whose used bytes are removed from its front. Call again
    /// until need_more; after an error every call returns the error.
    Piece next(std::string_view& input);

    const std::string& error() const { return error_; }

private:
    Piece fail(std::string why);
    Piece finish_gathered();

    enum class Step { header, content, padding, failed };
    Step step_ = Step::header;
    std::uint16_t request_id_;
    bool any_ = false;
    std::uint16_t record_id_ = 0;  ///< the current record's request id
    char header_[kHeaderBytes] = {};
    std::size_t header_have_ = 0;
    RecordType type_ = RecordType::stdout_data;
    std::size_t content_left_ = 0;
    std::size_t padding_left_ = 0;
    std::string gathered_;  ///< END_REQUEST or GET_VALUES_RESULT content so far
    std::string error_;
};

}  // namespace c10k::fastcgi
