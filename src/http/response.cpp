#include "http/response.hpp"

namespace c10k::http {

std::string_view reason_phrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 304:
            return "Not Modified";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 416:
            return "Range Not Satisfiable";
        case 417:
            return "Expectation Failed";
        case 426:
            return "Upgrade Required";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

void Response::add_header(std::string_view name, std::string_view value) {
    headers_.append(name);
    headers_.append(": ");
    headers_.append(value);
    headers_.append("\r\n");
}

void Response::set_body(std::string text) {
    body_kind_ = BodyKind::text;
    text_ = std::move(text);
    body_offset_ = 0;
    body_length_ = text_.size();
}

void Response::set_body(core::RefPtr<Blob> blob, std::uint64_t offset, std::uint64_t length) {
    body_kind_ = BodyKind::blob;
    blob_ = std::move(blob);
    body_offset_ = offset;
    body_length_ = length;
}

void Response::set_file_body(core::RefPtr<OpenFile> file, std::uint64_t offset,
                             std::uint64_t length) {
    body_kind_ = BodyKind::file;
    file_ = std::move(file);
    body_offset_ = offset;
    body_length_ = length;
}

void Response::set_body_length_only(std::uint64_t length) {
    body_kind_ = BodyKind::none;
    body_offset_ = 0;
    body_length_ = length;
}

bool Response::has_content_length() const {
    return !(status_ < 200 || status_ == 204 || status_ == 304);
}

void Response::clear() {
    status_ = 200;
    body_kind_ = BodyKind::none;
    close_ = false;
    deferred_ = false;
    headers_.clear();
    text_.clear();
    blob_ = {};
    file_ = {};
    body_offset_ = body_length_ = 0;
}

void answer_overloaded(Response& response, bool severe) {
    response.set_status(503);
    response.add_header("Retry-After", "1");
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    response.set_body("server overloaded; retry later\n");
    // Far over: the client goes too, and comes back (if at all) after Retry-After.
    if (severe) response.close_connection();
}

}  // namespace c10k::http
