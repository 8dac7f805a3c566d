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

PushResponseParser& self_of(llhttp_t* parser) {
    return *static_cast<PushResponseParser*>(parser->data);
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

void PushResponseParser::reset(const Callbacks* callbacks, void* context) {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings());
    parser_.data = this;
    callbacks_ = callbacks;
    context_ = context;
    in_message_ = false;
    release_headers();
}

void PushResponseParser::release_headers() {
    // swap, not clear(): clear keeps the capacity, and a loop holds thousands of parsers.
    std::string().swap(field_);
    std::string().swap(value_);
    std::string().swap(content_type_);
    std::string().swap(etag_);
    std::string().swap(event_);
    std::string().swap(ws_accept_);
    std::string().swap(ws_extensions_);
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
    // Field names arrive in pieces when a read ends inside one; only short names can be wanted.
    // A longer name is none of the wanted ones: a lone '-' stands for it.
    if (self.field_.size() + length <= 32) {
        self.field_.append(at, length);
    } else {
        self.field_.clear();
        self.field_.push_back('-');
    }
    return 0;
}

int PushResponseParser::on_header_field_complete(llhttp_t* parser) {
    auto& self = self_of(parser);
    if (same_name(self.field_, "content-type")) {
        self.wanted_ = Wanted::content_type;
    } else if (same_name(self.field_, "etag")) {
        self.wanted_ = Wanted::etag;
    } else if (same_name(self.field_, "x-event")) {
        self.wanted_ = Wanted::event;
    } else if (same_name(self.field_, "sec-websocket-accept")) {
        self.wanted_ = Wanted::ws_accept;
    } else if (same_name(self.field_, "sec-websocket-extensions")) {
        self.wanted_ = Wanted::ws_extensions;
    } else {
        self.wanted_ = Wanted::none;
    }
    self.field_.clear();
    return 0;
}

int PushResponseParser::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
    auto& self = self_of(parser);
    if (self.wanted_ == Wanted::none) return 0;
    if (self.value_.size() + length > max_header_bytes) return -1;
    self.value_.append(at, length);
    return 0;
}

int PushResponseParser::on_header_value_complete(llhttp_t* parser) {
    auto& self = self_of(parser);
    switch (self.wanted_) {
        case Wanted::content_type:
            self.content_type_.swap(self.value_);
            break;
        case Wanted::etag:
            self.etag_.swap(self.value_);
            break;
        case Wanted::event:
            self.event_.swap(self.value_);
            break;
        case Wanted::ws_accept:
            self.ws_accept_.swap(self.value_);
            break;
        case Wanted::ws_extensions:
            // Several header lines form one list (RFC 9110 5.3).
            if (!self.ws_extensions_.empty()) self.ws_extensions_ += ", ";
            self.ws_extensions_ += self.value_;
            break;
        case Wanted::none:
            break;
    }
    self.value_.clear();
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
    head.content_type = self.content_type_;
    head.etag = self.etag_;
    head.event = self.event_;
    head.ws_accept = self.ws_accept_;
    head.ws_extensions = self.ws_extensions_;
    bool go_on = self.callbacks_->on_head(self.context_, head);
    self.release_headers();
    if (!go_on) return HPE_PAUSED;
    return no_body;
}

int PushResponseParser::on_body(llhttp_t* parser, const char* at, std::size_t length) {
    auto& self = self_of(parser);
    return self.callbacks_->on_body(self.context_, at, length) ? 0 : HPE_PAUSED;
}

int PushResponseParser::on_message_complete(llhttp_t* parser) {
    auto& self = self_of(parser);
    self.in_message_ = false;
    int status = parser->status_code;
    if (status >= 100 && status < 200 && status != 101) return 0;  // interim: the final follows
    bool keep_alive = llhttp_should_keep_alive(parser) != 0;
    return self.callbacks_->on_complete(self.context_, keep_alive) ? 0 : HPE_PAUSED;
}

PushResponseParser::Outcome PushResponseParser::classify(llhttp_errno_t error) const {
    if (error == HPE_OK) return Outcome::ok;
    if (error == HPE_PAUSED || error == HPE_PAUSED_UPGRADE) return Outcome::stopped;
    return Outcome::parse_error;
}

PushResponseParser::Outcome PushResponseParser::feed(const char* data, std::size_t size) {
    llhttp_errno_t error = llhttp_execute(&parser_, data, size);
    if (error == HPE_PAUSED_UPGRADE) {
        // llhttp stops at the end of a 101's head; what follows is the new protocol's.
        upgrade_offset_ = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
        return Outcome::upgraded;
    }
    return classify(error);
}

PushResponseParser::Outcome PushResponseParser::finish() {
    llhttp_errno_t error = llhttp_finish(&parser_);
    if (error == HPE_OK && in_message_) return Outcome::parse_error;
    return classify(error);
}

}  // namespace c10k::bench
