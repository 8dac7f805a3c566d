#include "bench/push_http.hpp"

#include <strings.h>

namespace c10k::bench {
namespace {

// Longer header lines than this are not needed by the bench and are not kept: a wanted header
// (ETag, X-Event, Content-Type) past it is a parse error rather than a memory sink.
constexpr std::size_t max_header_bytes = 1024;

bool same_name(const std::string& name, const char* wanted) {
    return ::strcasecmp(name.c_str(), wanted) == 0;
}

}  // namespace

const llhttp_settings_t& PushResponseParser::settings() {
    static const llhttp_settings_t instance = [] {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_begin = &PushResponseParser::on_message_begin;
        s.on_header_field = &PushResponseParser::on_header_field;
        s.on_header_field_complete = &PushResponseParser::on_header_field_complete;
        s.on_header_value = &PushResponseParser::on_header_value;
        s.on_header_value_complete = &PushResponseParser::on_header_value_complete;
        s.on_headers_complete = &PushResponseParser::on_headers_complete;
        s.on_body = &PushResponseParser::on_body;
        s.on_message_complete = &PushResponseParser::on_message_complete;
        return s;
    }();
    return instance;
}

void PushResponseParser::reset() {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings());
    parser_.data = nullptr;  // set for the length of each feed() and finish()
    in_message_ = false;
    release_headers();
}

void PushResponseParser::release_headers() {
    // Freed, not cleared: clear() keeps the capacity, and a loop holds thousands of parsers.
    head_.reset();
    wanted_ = Wanted::none;
}

int PushResponseParser::on_message_begin(llhttp_t* parser) {
    auto& self = self_of(parser);
    self.in_message_ = true;
    self.release_headers();
    return 0;
}

int PushResponseParser::on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
    auto& self = self_of(parser);
    std::string& field = self.head_text().field;
    // Field names arrive in pieces when a read ends inside one; only short names can be wanted.
    // A longer name is none of the wanted ones: a lone '-' stands for it.
    if (field.size() + length <= 32) {
        field.append(at, length);
    } else {
        field.clear();
        field.push_back('-');
    }
    return 0;
}

int PushResponseParser::on_header_field_complete(llhttp_t* parser) {
    auto& self = self_of(parser);
    std::string& field = self.head_text().field;
    if (same_name(field, "content-type")) {
        self.wanted_ = Wanted::content_type;
    } else if (same_name(field, "etag")) {
        self.wanted_ = Wanted::etag;
    } else if (same_name(field, "x-event")) {
        self.wanted_ = Wanted::event;
    } else if (same_name(field, "sec-websocket-accept")) {
        self.wanted_ = Wanted::ws_accept;
    } else if (same_name(field, "sec-websocket-extensions")) {
        self.wanted_ = Wanted::ws_extensions;
    } else {
        self.wanted_ = Wanted::none;
    }
    field.clear();
    return 0;
}

int PushResponseParser::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
    auto& self = self_of(parser);
    if (self.wanted_ == Wanted::none) return 0;
    std::string& value = self.head_text().value;
    if (value.size() + length > max_header_bytes) return -1;
    value.append(at, length);
    return 0;
}

int PushResponseParser::on_header_value_complete(llhttp_t* parser) {
    auto& self = self_of(parser);
    if (self.wanted_ == Wanted::none) return 0;
    HeadText& text = self.head_text();
    switch (self.wanted_) {
        case Wanted::content_type:
            text.content_type.swap(text.value);
            break;
        case Wanted::etag:
            text.etag.swap(text.value);
            break;
        case Wanted::event:
            text.event.swap(text.value);
            break;
        case Wanted::ws_accept:
            text.ws_accept.swap(text.value);
            break;
        case Wanted::ws_extensions:
            // Several header lines form one list (RFC 9110 5.3).
            if (!text.ws_extensions.empty()) text.ws_extensions += ", ";
            text.ws_extensions += text.value;
            break;
        case Wanted::none:
            break;
    }
    text.value.clear();
    self.wanted_ = Wanted::none;
    return 0;
}

int PushResponseParser::on_headers_complete(llhttp_t* parser) {
    auto& self = self_of(parser);
    int status = parser->status_code;
    bool interim = status >= 100 && status < 200 && status != 101;
    // 1 tells llhttp that no body follows: true of 1xx, 204 and 304 whatever the headers say.
    int no_body = interim || status == 204 || status == 304 ? 1 : 0;
    if (interim) return no_body;
    Head head;
    head.status = status;
    if (self.head_) {
        head.content_type = self.head_->content_type;
        head.etag = self.head_->etag;
        head.event = self.head_->event;
        head.ws_accept = self.head_->ws_accept;
        head.ws_extensions = self.head_->ws_extensions;
    }
    auto& feeding = feeding_of(parser);
    bool go_on = feeding.callbacks->on_head(feeding.context, head);
    self.release_headers();
    if (!go_on) return HPE_PAUSED;
    return no_body;
}

int PushResponseParser::on_body(llhttp_t* parser, const char* at, std::size_t length) {
    auto& feeding = feeding_of(parser);
    return feeding.callbacks->on_body(feeding.context, at, length) ? 0 : HPE_PAUSED;
}

int PushResponseParser::on_message_complete(llhttp_t* parser) {
    auto& self = self_of(parser);
    self.in_message_ = false;
    int status = parser->status_code;
    if (status >= 100 && status < 200 && status != 101) return 0;  // interim: the final follows
    bool keep_alive = llhttp_should_keep_alive(parser) != 0;
    auto& feeding = feeding_of(parser);
    return feeding.callbacks->on_complete(feeding.context, keep_alive) ? 0 : HPE_PAUSED;
}

PushResponseParser::Outcome PushResponseParser::classify(llhttp_errno_t error) const {
    if (error == HPE_OK) return Outcome::ok;
    if (error == HPE_PAUSED || error == HPE_PAUSED_UPGRADE) return Outcome::stopped;
    return Outcome::parse_error;
}

PushResponseParser::Outcome PushResponseParser::feed(const char* data, std::size_t size,
                                                     const Callbacks& callbacks, void* context) {
    Feeding feeding{this, &callbacks, context};
    parser_.data = &feeding;
    llhttp_errno_t error = llhttp_execute(&parser_, data, size);
    parser_.data = nullptr;
    if (error == HPE_PAUSED_UPGRADE) {
        // llhttp stops at the end of a 101's head; what follows is the new protocol's.
        upgrade_offset_ = static_cast<std::uint32_t>(llhttp_get_error_pos(&parser_) - data);
        return Outcome::upgraded;
    }
    return classify(error);
}

PushResponseParser::Outcome PushResponseParser::finish(const Callbacks& callbacks, void* context) {
    Feeding feeding{this, &callbacks, context};
    parser_.data = &feeding;
    llhttp_errno_t error = llhttp_finish(&parser_);
    parser_.data = nullptr;
    if (error == HPE_OK && in_message_) return Outcome::parse_error;
    return classify(error);
}

}  // namespace c10k::bench
