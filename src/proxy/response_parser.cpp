#include "proxy/response_parser.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cstring>

namespace c10k::proxy {

// llhttp calls plain C functions with the parser; these find the ResponseParser in
// parser->data. A struct, so that it can be the parser's friend.
struct ResponseCallbacks {
    static ResponseParser& of(llhttp_t* p) { return *static_cast<ResponseParser*>(p->data); }
    static int status_complete(llhttp_t* p) { return of(p).on_status_complete(); }
    static int header_field(llhttp_t* p, const char* at, std::size_t n) {
        return of(p).on_header_field(at, n);
    }
    static int header_field_complete(llhttp_t* p) { return of(p).on_header_field_complete(); }
    static int header_value(llhttp_t* p, const char* at, std::size_t n) {
        return of(p).on_header_value(at, n);
    }
    static int header_value_complete(llhttp_t* p) { return of(p).on_header_value_complete(); }
    static int headers_complete(llhttp_t* p) { return of(p).on_headers_complete(); }

    static const llhttp_settings_t& settings() {
        static const llhttp_settings_t instance = [] {
            llhttp_settings_t s;
            llhttp_settings_init(&s);
            s.on_status_complete = status_complete;
            s.on_header_field = header_field;
            s.on_header_field_complete = header_field_complete;
            s.on_header_value = header_value;
            s.on_header_value_complete = header_value_complete;
            s.on_headers_complete = headers_complete;
            return s;
        }();
        return instance;
    }
};

const char* describe(ParseError error) {
    switch (error) {
        case ParseError::none:
            return "no error";
        case ParseError::garbage:
            return "garbage (not an HTTP/1.x response)";
        case ParseError::header_too_large:
            return "response header too large";
        case ParseError::too_many_headers:
            return "too many response header fields";
        case ParseError::invalid_header:
            return "malformed response header";
        case ParseError::invalid_framing:
            return "invalid response body framing";
        case ParseError::closed_before_head:
            return "closed before the response head";
        case ParseError::closed_mid_body:
            return "closed in the middle of the response body";
    }
    return "unknown error";
}

ResponseParser::ResponseParser() : ResponseParser(Limits{}) {}

ResponseParser::ResponseParser(Limits limits) : limits_(limits) {
    llhttp_init(&parser_, HTTP_RESPONSE, &ResponseCallbacks::settings());
    parser_.data = this;
    reset(http::Method::get);
}

void ResponseParser::reset(http::Method request_method) {
    head_request_ = request_method == http::Method::head;
    phase_ = Phase::head;
    error_ = ParseError::none;
    detail_ = "";
    got_any_byte_ = false;
    keep_alive_ = false;
    has_content_length_ = false;
    framing_ = Framing::unknown;
    status_ = 0;
    version_minor_ = 1;
    content_length_ = 0;
    body_remaining_ = 0;
    head_bytes_ = 0;
    start_head();
}

void ResponseParser::start_head() {
    // Each head (an interim one, then the final one) starts llhttp afresh: what it concluded
    // about a 1xx (say, Connection: close) must not leak into the next.
    llhttp_reset(&parser_);
    text_.clear();
    fields_.clear();
    views_.clear();
    connection_values_.clear();
    field_open_ = false;
    status_seen_ = false;
    llhttp_head_done_ = false;
    callback_error_ = ParseError::none;
    callback_detail_ = "";
    line_index_ = 0;
    line_length_ = 0;
    after_cr_ = false;
}

ParseResult ResponseParser::feed(const char* data, std::size_t length, ResponseSink& sink) {
    if (phase_ == Phase::failed) return {0, error_};
    if (phase_ == Phase::complete || length == 0) return {0, ParseError::none};
    got_any_byte_ = true;
    std::size_t used = 0;
    if (phase_ == Phase::head) used = feed_head(data, length, sink);
    if (phase_ == Phase::body) used += feed_body(data + used, length - used, sink);
    return {used, phase_ == Phase::failed ? error_ : ParseError::none};
}

ParseResult ResponseParser::on_eof(ResponseSink& sink) {
    switch (phase_) {
        case Phase::failed:
            return {0, error_};
        case Phase::complete:
            return {0, ParseError::none};
        case Phase::head:
            fail(ParseError::closed_before_head,
                 got_any_byte_ ? "closed inside the head" : "closed without answering");
            return {0, error_};
        case Phase::body:
            if (framing_ == Framing::close_delimited) {
                finish(sink);
                return {0, ParseError::none};
            }
            fail(ParseError::closed_mid_body, framing_ == Framing::chunked
                                                  ? "closed before the last chunk"
                                                  : "closed before Content-Length bytes arrived");
            return {0, error_};
    }
    return {0, error_};
}

std::size_t ResponseParser::feed_head(const char* data, std::size_t length, ResponseSink& sink) {
    std::size_t pos = 0;
    while (pos < length && phase_ == Phase::head) {
        Scan scan = scan_head(data + pos, length - pos);
        // llhttp sees exactly the bytes the scanner accepted: up to the head's end, or up to
        // the byte the scanner refuses (so that an earlier fault llhttp finds is the one told).
        if (scan.length > 0) {
            llhttp_errno_t code = llhttp_execute(&parser_, data + pos, scan.length);
            // llhttp pauses after a head with Upgrade (a 101): its message is over, and so
            // are the bytes it was given.
            bool upgraded = code == HPE_PAUSED_UPGRADE && llhttp_head_done_;
            if (code != HPE_OK && !upgraded) {
                fail_from_llhttp(code);
                return pos;
            }
        }
        pos += scan.length;
        if (scan.error != ParseError::none) {
            fail(scan.error, scan.detail);
            return pos;
        }
        if (!scan.head_ended) break;
        if (!head_ended(sink)) break;
    }
    return pos;
}

ResponseParser::Scan ResponseParser::scan_head(const char* data, std::size_t length) {
    // The state lives in locals while the loop runs and goes back to the members at the end:
    // `data` is a char pointer, which may alias anything, so members would be stored and
    // reloaded at every byte of every response head.
    Scan scan;
    std::size_t head_bytes = head_bytes_;
    std::size_t line_index = line_index_;
    std::size_t line_length = line_length_;
    bool after_cr = after_cr_;
    const std::size_t limit = limits_.max_header_bytes;
    auto fail_at = [&](std::size_t at, ParseError error, const char* detail) {
        scan.length = at;
        scan.error = error;
        scan.detail = detail;
    };
    std::size_t i = 0;
    for (; i < length; ++i) {
        if (head_bytes >= limit) {
            fail_at(i, ParseError::header_too_large, "response head larger than the limit");
            break;
        }
        ++head_bytes;
        char c = data[i];
        if (after_cr) {
            after_cr = false;
            if (c != '\n') {
                fail_at(i, line_index == 0 ? ParseError::garbage : ParseError::invalid_header,
                        "bare CR in the response head");
                break;
            }
            if (line_length == 0) {
                if (line_index == 0) {
                    fail_at(i, ParseError::garbage, "empty status line");
                    break;
                }
                scan.length = i + 1;
                scan.head_ended = true;
                break;
            }
            ++line_index;
            line_length = 0;
        } else if (c == '\r') {
            after_cr = true;
        } else if (c == '\n') {
            // RFC 9112 lets a recipient accept a bare LF; a proxy that did would read lines
            // where the next hop might not.
            fail_at(i, line_index == 0 ? ParseError::garbage : ParseError::invalid_header,
                    "bare LF in the response head");
            break;
        } else {
            if (line_length == 0 && line_index > 0 && core::is_ows(c)) {
                fail_at(i, ParseError::invalid_header,
                        "obs-fold (a header line that starts with whitespace)");
                break;
            }
            ++line_length;
        }
    }
    if (i == length) scan.length = length;
    head_bytes_ = head_bytes;
    line_index_ = line_index;
    line_length_ = line_length;
    after_cr_ = after_cr;
    return scan;
}

bool ResponseParser::head_ended(ResponseSink& sink) {
    if (!llhttp_head_done_) {
        // The scanner found the blank line but llhttp is elsewhere: two readers disagree on
        // where the head ends, the very thing smuggling is made of.
        fail(ParseError::invalid_header, "the head's end is ambiguous");
        return false;
    }
    if (!check_head()) return false;
    if (status_ >= 100 && status_ < 200 && status_ != 101) {
        // An interim response (100 Continue, 103 Early Hints): the client gets the final one.
        start_head();
        return true;
    }
    views_.clear();
    for (const Field& f : fields_) {
        views_.push_back({std::string_view(text_.data() + f.name_offset, f.name_length),
                          std::string_view(text_.data() + f.value_offset, f.value_length)});
        if (http::iequals(views_.back().name, "connection"))
            connection_values_.push_back(views_.back().value);
    }
    sink.on_head(*this);
    if (framing_ == Framing::none || (framing_ == Framing::length && content_length_ == 0)) {
        finish(sink);
    } else {
        phase_ = Phase::body;
        body_remaining_ = content_length_;
        if (framing_ == Framing::chunked) chunked_.reset(limits_.max_header_bytes);
    }
    return true;
}

bool ResponseParser::check_head() {
    std::size_t codings = 0;
    bool only_chunked = true;
    for (const Field& f : fields_) {
        std::string_view name(text_.data() + f.name_offset, f.name_length);
        if (!core::is_token(name)) {
            fail(ParseError::invalid_header, "a header field name is not a token");
            return false;
        }
        if (!http::iequals(name, "transfer-encoding")) continue;
        std::string_view value(text_.data() + f.value_offset, f.value_length);
        while (!value.empty()) {
            auto comma = value.find(',');
            std::string_view coding = core::trim_ows(value.substr(0, comma));
            value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
            if (coding.empty()) continue;
            ++codings;
            if (!http::iequals(coding, "chunked")) only_chunked = false;
        }
    }
    bool transfer_encoding = (llhttp_flags_ & F_TRANSFER_ENCODING) != 0 || codings > 0;
    if (transfer_encoding) {
        // Only plain "chunked": any other coding would reach the client undecoded once
        // Transfer-Encoding (hop-by-hop) is dropped, and HTTP/1.0 has no transfer codings at
        // all (RFC 9112 section 6.1: such framing is faulty).
        if (version_minor_ == 0) {
            fail(ParseError::invalid_framing, "Transfer-Encoding in an HTTP/1.0 response");
            return false;
        }
        if (codings != 1 || !only_chunked) {
            fail(ParseError::invalid_framing, "a transfer coding other than one chunked");
            return false;
        }
    }
    has_content_length_ = (llhttp_flags_ & F_CONTENT_LENGTH) != 0;
    content_length_ = has_content_length_ ? llhttp_content_length_ : 0;
    bool no_body =
        head_request_ || (status_ >= 100 && status_ < 200) || status_ == 204 || status_ == 304;
    if (no_body) {
        framing_ = Framing::none;
    } else if (transfer_encoding) {
        framing_ = Framing::chunked;
    } else if (has_content_length_) {
        framing_ = Framing::length;
    } else {
        framing_ = Framing::close_delimited;
    }
    bool persistent = version_minor_ >= 1 ? (llhttp_flags_ & F_CONNECTION_CLOSE) == 0
                                          : (llhttp_flags_ & F_CONNECTION_KEEP_ALIVE) != 0;
    keep_alive_ = persistent && framing_ != Framing::close_delimited && status_ != 101;
    return true;
}

std::size_t ResponseParser::feed_body(const char* data, std::size_t length, ResponseSink& sink) {
    switch (framing_) {
        case Framing::length: {
            auto take = static_cast<std::size_t>(
                std::min<std::uint64_t>(body_remaining_, static_cast<std::uint64_t>(length)));
            if (take > 0) sink.on_body(data, take);
            body_remaining_ -= take;
            if (body_remaining_ == 0) finish(sink);
            return take;
        }
        case Framing::close_delimited:
            if (length > 0) sink.on_body(data, length);
            return length;
        case Framing::chunked: {
            std::size_t used = 0;
            while (true) {
                ChunkedDecoder::Step step = chunked_.next(data + used, length - used);
                used += step.consumed;
                switch (step.status) {
                    case ChunkedDecoder::Status::piece:
                        sink.on_body(step.piece, step.piece_length);
                        continue;
                    case ChunkedDecoder::Status::done:
                        finish(sink);
                        return used;
                    case ChunkedDecoder::Status::need_more:
                        return used;
                    case ChunkedDecoder::Status::invalid:
                        fail(ParseError::invalid_framing, chunked_.error_detail());
                        return used;
                    case ChunkedDecoder::Status::trailers_too_large:
                        fail(ParseError::header_too_large, chunked_.error_detail());
                        return used;
                }
            }
        }
        case Framing::none:
        case Framing::unknown:
            break;
    }
    return 0;
}

void ResponseParser::finish(ResponseSink& sink) {
    phase_ = Phase::complete;
    sink.on_complete();
}

void ResponseParser::fail(ParseError error, const char* detail) {
    phase_ = Phase::failed;
    error_ = error;
    detail_ = detail;
    keep_alive_ = false;
}

void ResponseParser::fail_from_llhttp(llhttp_errno_t code) {
    if (callback_error_ != ParseError::none) {
        fail(callback_error_, callback_detail_);
        return;
    }
    const char* reason = llhttp_get_error_reason(&parser_);
    if (reason == nullptr) reason = llhttp_errno_name(code);
    if (!status_seen_) {
        fail(ParseError::garbage, reason);
    } else if (code == HPE_INVALID_CONTENT_LENGTH || code == HPE_UNEXPECTED_CONTENT_LENGTH ||
               code == HPE_INVALID_TRANSFER_ENCODING) {
        fail(ParseError::invalid_framing, reason);
    } else {
        fail(ParseError::invalid_header, reason);
    }
}

int ResponseParser::on_status_complete() {
    status_seen_ = true;
    // llhttp 8 takes HTTP/2.0 and any status of up to three digits ("HTTP/1.1 0").
    if (parser_.http_major != 1 || parser_.http_minor > 1) {
        callback_error_ = ParseError::garbage;
        callback_detail_ = "not HTTP/1.0 or HTTP/1.1";
        return HPE_USER;
    }
    if (parser_.status_code < 100 || parser_.status_code > 599) {
        callback_error_ = ParseError::garbage;
        callback_detail_ = "status code out of range";
        return HPE_USER;
    }
    return 0;
}

int ResponseParser::on_header_field(const char* at, std::size_t length) {
    if (!field_open_) {
        auto offset = static_cast<std::uint32_t>(text_.size());
        fields_.push_back({offset, 0, offset, 0});
        field_open_ = true;
    }
    text_.append(at, length);
    fields_.back().name_length += static_cast<std::uint32_t>(length);
    fields_.back().value_offset = static_cast<std::uint32_t>(text_.size());
    return 0;
}

int ResponseParser::on_header_field_complete() {
    // Counted here, at the colon, and not where a name's first bytes arrive: llhttp reports a
    // name in pieces where reads split it, and the error must not depend on the split.
    if (fields_.size() > limits_.max_headers) {
        callback_error_ = ParseError::too_many_headers;
        callback_detail_ = "more header fields than the limit";
        return HPE_USER;
    }
    return 0;
}

int ResponseParser::on_header_value(const char* at, std::size_t length) {
    if (!field_open_) {
        callback_error_ = ParseError::invalid_header;
        callback_detail_ = "a header field without a name";
        return HPE_USER;
    }
    text_.append(at, length);
    fields_.back().value_length += static_cast<std::uint32_t>(length);
    return 0;
}

int ResponseParser::on_header_value_complete() {
    if (!field_open_) {
        callback_error_ = ParseError::invalid_header;
        callback_detail_ = "a header field without a name";
        return HPE_USER;
    }
    // llhttp drops the whitespace before a value but keeps what follows it.
    Field& f = fields_.back();
    while (f.value_length > 0 && core::is_ows(text_[f.value_offset + f.value_length - 1])) {
        --f.value_length;
    }
    field_open_ = false;
    return 0;
}

int ResponseParser::on_headers_complete() {
    if (llhttp_head_done_) {
        // Cannot happen while the scanner and llhttp agree; if they ever do not, two heads
        // in the bytes of one must not be merged into one.
        callback_error_ = ParseError::invalid_header;
        callback_detail_ = "two heads where the scanner saw one";
        return HPE_USER;
    }
    llhttp_head_done_ = true;
    // Kept now: llhttp clears them when the message it thinks is over completes.
    status_ = parser_.status_code;
    version_minor_ = parser_.http_minor;
    llhttp_flags_ = parser_.flags;
    llhttp_content_length_ = parser_.content_length;
    // 1: no body for llhttp, whatever the head says. The body is framed by feed_body, and
    // llhttp never sees a byte after the head.
    return 1;
}

std::string_view ResponseParser::header(std::string_view name) const {
    for (const http::Header& h : views_) {
        if (http::iequals(h.name, name)) return h.value;
    }
    return {};
}

}  // namespace c10k::proxy
