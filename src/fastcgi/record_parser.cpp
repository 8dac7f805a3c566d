#include "fastcgi/record_parser.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace c10k::fastcgi {

Piece RecordParser::fail(std::string why) {
    step_ = Step::failed;
    error_ = std::move(why);
    Piece piece;
    piece.kind = Piece::Kind::error;
    return piece;
}

Piece RecordParser::finish_gathered() {
    Piece piece;
    piece.request_id = record_id_;
    if (type_ == RecordType::end_request) {
        auto byte = [&](std::size_t i) { return static_cast<unsigned char>(gathered_[i]); };
        piece.kind = Piece::Kind::end_request;
        piece.app_status = (static_cast<std::uint32_t>(byte(0)) << 24) |
                           (static_cast<std::uint32_t>(byte(1)) << 16) |
                           (static_cast<std::uint32_t>(byte(2)) << 8) | byte(3);
        piece.protocol_status = static_cast<ProtocolStatus>(byte(4));
    } else {
        piece.kind = Piece::Kind::values_result;
        piece.bytes = gathered_;
    }
    return piece;
}

Piece RecordParser::next(std::string_view& input) {
    for (;;) {
        switch (step_) {
            case Step::failed: {
                Piece piece;
                piece.kind = Piece::Kind::error;
                return piece;
            }
            case Step::header: {
                if (input.empty()) return Piece{};
                std::size_t take = std::min(kHeaderBytes - header_have_, input.size());
                std::copy_n(input.data(), take, header_ + header_have_);
                header_have_ += take;
                input.remove_prefix(take);
                if (header_have_ < kHeaderBytes) return Piece{};
                header_have_ = 0;
                auto byte = [&](int i) { return static_cast<unsigned char>(header_[i]); };
                if (byte(0) != kVersion) {
                    return fail(
                        fmt::format("a record of version {} (FastCGI is version 1)", byte(0)));
                }
                type_ = static_cast<RecordType>(byte(1));
                std::uint16_t id = static_cast<std::uint16_t>((byte(2) << 8) | byte(3));
                record_id_ = id;
                content_left_ = (static_cast<std::size_t>(byte(4)) << 8) | byte(5);
                padding_left_ = byte(6);
                gathered_.clear();
                switch (type_) {
                    case RecordType::stdout_data:
                    case RecordType::stderr_data:
                    case RecordType::end_request:
                        if (any_ ? id == 0 : (id != request_id_ || request_id_ == 0)) {
                            return fail(any_ ? std::string("a response record for request 0")
                                             : fmt::format("a record for request {} "
                                                           "(expected {})",
                                                           id, request_id_));
                        }
                        if (type_ == RecordType::end_request && content_left_ != 8) {
                            return fail(fmt::format("an END_REQUEST of {} bytes (expected 8)",
                                                    content_left_));
                        }
                        break;
                    case RecordType::get_values_result:
                    case RecordType::unknown_type:
                        if (id != 0) return fail("a management record with a request id");
                        break;
                    default:
                        return fail(
                            fmt::format("a record of type {}, which an application "
                                        "does not send",
                                        byte(1)));
                }
                step_ = Step::content;
                if (content_left_ == 0 && type_ == RecordType::stdout_data) {
                    step_ = Step::padding;
                    Piece piece;
                    piece.kind = Piece::Kind::stdout_data;  // empty: the stream's end
                    piece.request_id = record_id_;
                    return piece;
                }
                continue;
            }
            case Step::content: {
                if (content_left_ == 0) {
                    step_ = Step::padding;
                    if (type_ == RecordType::end_request ||
                        type_ == RecordType::get_values_result) {
                        return finish_gathered();
                    }
                    continue;
                }
                if (input.empty()) return Piece{};
                std::size_t take = std::min(content_left_, input.size());
                std::string_view bytes = input.substr(0, take);
                input.remove_prefix(take);
                content_left_ -= take;
                if (type_ == RecordType::stdout_data || type_ == RecordType::stderr_data) {
                    Piece piece;
                    piece.kind = type_ == RecordType::stdout_data ? Piece::Kind::stdout_data
                                                                  : Piece::Kind::stderr_data;
                    piece.bytes = bytes;
                    piece.request_id = record_id_;
                    return piece;
                }
                // END_REQUEST (8 bytes), or a management record: at most one record's content.
                if (type_ != RecordType::unknown_type) gathered_.append(bytes);
                continue;
            }
            case Step::padding: {
                if (padding_left_ == 0) {
                    step_ = Step::header;
                    continue;
                }
                if (input.empty()) return Piece{};
                std::size_t take = std::min(padding_left_, input.size());
                input.remove_prefix(take);
                padding_left_ -= take;
                continue;
            }
        }
    }
}

}  // namespace c10k::fastcgi
