#include "cgi/output_head.hpp"

#include <charconv>

#include "core/log.hpp"
#include "core/text.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "http/session.hpp"  // Pending's inline members

namespace c10k::cgi {

void log_error_lines(std::string& partial, std::string_view bytes, std::string_view who,
                     bool flush) {
    for (char c : bytes) {
        if (c == '\n' || partial.size() >= 4096) {
            core::log(core::LogLevel::warn, "{}: {}", who, partial);
            partial.clear();
            if (c == '\n') continue;
        }
        partial.push_back(c);
    }
    if (flush && !partial.empty()) {
        core::log(core::LogLevel::warn, "{}: {}", who, partial);
        partial.clear();
    }
}

namespace {

/// Written by the Session (framing, Date, Server) or meaningless from a program.
bool server_owned(std::string_view name) {
    for (std::string_view owned : {"connection", "keep-alive", "transfer-encoding", "upgrade",
                                   "te", "trailer", "date", "server", "content-length"}) {
        if (http::iequals(name, owned)) return true;
    }
    return false;
}

}  // namespace

OutputHead::State OutputHead::feed(const char* data, std::size_t size, std::size_t& used) {
    used = 0;
    while (state_ == State::more && used < size) {
        char c = data[used++];
        if (++seen_ > max_bytes_) {
            error_ = "the program's head is larger than the limit";
            return state_ = State::invalid;
        }
        if (c != '\n') {
            pending_.push_back(c);
            continue;
        }
        if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
        state_ = line(pending_);
        pending_.clear();
    }
    return state_;
}

OutputHead::State OutputHead::line(std::string_view text) {
    if (text.empty()) {
        // RFC 3875 section 6.2: a document response needs Content-Type; a redirect, Location.
        if (!has_content_type_ && !has_location_ && status_ == 0) {
            error_ = "the program's head has neither Content-Type, Location nor Status";
            return State::invalid;
        }
        // A path in Location with no Status is a local redirect (section 6.2.2): the server
        // serves that path instead, as Apache does; "//host/..." is a client redirect.
        if (status_ == 0 && local_location_.size() > 0 &&
            !(local_location_.size() > 1 && local_location_[1] == '/')) {
            local_redirect_ = true;
        }
        if (status_ == 0) status_ = has_location_ && !has_content_type_ ? 302 : 200;
        if (has_location_ && status_ == 200) status_ = 302;
        return State::done;
    }
    std::size_t colon = text.find(':');
    std::string_view name = text.substr(0, colon);
    if (colon == std::string_view::npos || !core::is_token(name)) {
        error_ = "a line of the program's head is not a header field";
        return State::invalid;
    }
    std::string_view value = core::trim_ows(text.substr(colon + 1));
    for (char c : value) {
        if (c == '\r' || c == '\0') {
            error_ = "a header value holds a CR or NUL";
            return State::invalid;
        }
    }
    if (http::iequals(name, "status")) {
        int status = 0;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), status);
        if (error != std::errc{} || status < 200 || status > 599 ||
            (end != value.data() + value.size() && *end != ' ')) {
            error_ = "the program's Status is not a status code from 200 to 599";
            return State::invalid;
        }
        status_ = status;
        return State::more;
    }
    if (http::iequals(name, "content-length")) {
        long long length = 0;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
        if (error != std::errc{} || end != value.data() + value.size() || length < 0) {
            error_ = "the program's Content-Length is not a number";
            return State::invalid;
        }
        content_length_ = length;
        return State::more;
    }
    if (server_owned(name)) return State::more;
    if (http::iequals(name, "location")) {
        has_location_ = true;
        if (value.starts_with('/')) local_location_ = value;
    }
    if (http::iequals(name, "content-type")) has_content_type_ = true;
    fields_.emplace_back(std::string(name), std::string(value));
    return State::more;
}

bool start_answer(const OutputHead& head, http::Method method, http::Pending& pending,
                  long long& remaining) {
    http::Response response;
    response.set_status(head.status());
    for (const auto& [name, value] : head.fields()) response.add_header(name, value);
    if (head.content_length() >= 0) {
        remaining = head.content_length();
        return pending.start_stream(response, static_cast<std::uint64_t>(remaining));
    }
    remaining = -1;
    pending.start_stream(response);
    return method != http::Method::head;
}

}  // namespace c10k::cgi
