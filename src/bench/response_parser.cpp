#include "bench/response_parser.hpp"

namespace c10k::bench {

const llhttp_settings_t& ResponseParser::settings() {
    static const llhttp_settings_t instance = [] {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_begin = &ResponseParser::on_message_begin;
        s.on_status_complete = &ResponseParser::on_status_complete;
        s.on_headers_complete = &ResponseParser::on_headers_complete;
        s.on_message_complete = &ResponseParser::on_message_complete;
        return s;
    }();
    return instance;
}

void ResponseParser::reset(bool head, OnComplete on_complete, void* context) {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings());
    parser_.data = this;
    on_complete_ = on_complete;
    context_ = context;
    head_ = head;
    in_message_ = false;
    status_seen_ = false;
}

int ResponseParser::on_message_begin(llhttp_t* parser) {
    auto* self = static_cast<ResponseParser*>(parser->data);
    self->in_message_ = true;
    self->status_seen_ = false;
    return 0;
}

int ResponseParser::on_status_complete(llhttp_t* parser) {
    static_cast<ResponseParser*>(parser->data)->status_seen_ = true;
    return 0;
}

int ResponseParser::on_headers_complete(llhttp_t* parser) {
    auto* self = static_cast<ResponseParser*>(parser->data);
    // 1 tells llhttp "no body follows". That holds for any response to HEAD and, whatever
    // their headers say, for 1xx, 204 and 304 (RFC 9112 section 6.3); llhttp 8 only knows some.
    int status = parser->status_code;
    bool no_body = self->head_ || (status >= 100 && status < 200 && status != 101) ||
                   status == 204 || status == 304;
    return no_body ? 1 : 0;
}

int ResponseParser::on_message_complete(llhttp_t* parser) {
    auto* self = static_cast<ResponseParser*>(parser->data);
    self->in_message_ = false;
    int status = parser->status_code;
    if (status >= 100 && status < 200 && status != 101) return 0;  // interim: wait for the final
    bool keep_alive = llhttp_should_keep_alive(parser) != 0;
    if (!self->on_complete_(self->context_, status, keep_alive)) return HPE_PAUSED;
    return 0;
}

ResponseParser::Outcome ResponseParser::classify(llhttp_errno_t error) const {
    if (error == HPE_OK) return Outcome::ok;
    if (error == HPE_PAUSED || error == HPE_PAUSED_UPGRADE) return Outcome::stopped;
    if (!status_seen_) return Outcome::bad_status_line;
    return Outcome::parse_error;
}

ResponseParser::Outcome ResponseParser::feed(const char* data, std::size_t length) {
    return classify(llhttp_execute(&parser_, data, length));
}

ResponseParser::Outcome ResponseParser::finish() {
    llhttp_errno_t error = llhttp_finish(&parser_);
    if (error == HPE_OK && in_message_) return Outcome::parse_error;
    return classify(error);
}

const char* ResponseParser::error_reason() const {
    const char* reason = llhttp_get_error_reason(&parser_);
    return reason ? reason : "";
}

}  // namespace c10k::bench
