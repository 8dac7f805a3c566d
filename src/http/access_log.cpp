#include "http/access_log.hpp"

#include <unistd.h>

#include <charconv>
#include <ctime>

namespace c10k::http {

AccessLog::AccessLog(int fd, AccessLogFormat format, std::size_t flush_bytes)
    : fd_(fd), format_(format), flush_bytes_(flush_bytes) {
    buffer_.reserve(flush_bytes_ + 1024);
}

AccessLog::~AccessLog() {
    flush();
}

void AccessLog::append_quoted(std::string_view text) {
    buffer_.push_back('"');
    if (text.empty()) buffer_.push_back('-');
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        // Escape what could forge a log line or confuse a parser, as nginx does.
        if (c == '"' || c == '\\' || u < 0x20 || u >= 0x7f) {
            static constexpr char hex[] = "0123456789ABCDEF";
            buffer_.append("\\x");
            buffer_.push_back(hex[u >> 4]);
            buffer_.push_back(hex[u & 15]);
        } else {
            buffer_.push_back(c);
        }
    }
    buffer_.push_back('"');
}

void AccessLog::cache_time(std::int64_t now_seconds, const char* format) {
    // Formatted once a second, not once a line.
    if (now_seconds == time_second_) return;
    time_second_ = now_seconds;
    std::time_t t = static_cast<std::time_t>(now_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[40];
    std::strftime(text, sizeof text, format, &tm);
    time_text_ = text;
}

void AccessLog::append_number(std::uint64_t value) {
    char number[24];
    buffer_.append(number, std::to_chars(number, number + sizeof number, value).ptr);
}

void AccessLog::append_json(std::string_view text) {
    buffer_.push_back('"');
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        // Bytes outside printable ASCII become \u00XX: the line stays valid JSON (and ASCII)
        // whatever a client sent, at the price of showing UTF-8 as its bytes.
        if (c == '"' || c == '\\') {
            buffer_.push_back('\\');
            buffer_.push_back(c);
        } else if (u < 0x20 || u >= 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            buffer_.append("\\u00");
            buffer_.push_back(hex[u >> 4]);
            buffer_.push_back(hex[u & 15]);
        } else {
            buffer_.push_back(c);
        }
    }
    buffer_.push_back('"');
}

void AccessLog::record_json(std::string_view peer, const Request& request, int status,
                            std::uint64_t body_bytes, std::int64_t now_seconds) {
    cache_time(now_seconds, "%Y-%m-%dT%H:%M:%SZ");
    buffer_.append("{\"time\":\"");
    buffer_.append(time_text_);
    buffer_.append("\",\"remote\":");
    append_json(peer);
    buffer_.append(",\"method\":");
    append_json(request.method_text);
    buffer_.append(",\"target\":");
    append_json(request.target);
    buffer_.append(request.version_minor == 0 ? ",\"protocol\":\"HTTP/1.0\""
                                              : ",\"protocol\":\"HTTP/1.1\"");
    buffer_.append(",\"status\":");
    append_number(static_cast<std::uint64_t>(status));
    buffer_.append(",\"bytes\":");
    append_number(body_bytes);
    buffer_.append(",\"referer\":");
    append_json(request.header("Referer"));
    buffer_.append(",\"user_agent\":");
    append_json(request.header("User-Agent"));
    buffer_.append("}\n");
    if (buffer_.size() >= flush_bytes_) flush();
}

void AccessLog::record(std::string_view peer, const Request& request, int status,
                       std::uint64_t body_bytes, std::int64_t now_seconds) {
    if (format_ == AccessLogFormat::json) {
        record_json(peer, request, status, body_bytes, now_seconds);
        return;
    }
    cache_time(now_seconds, "[%d/%b/%Y:%H:%M:%S +0000]");
    buffer_.append(peer.empty() ? std::string_view("-") : peer);
    buffer_.append(" - - ");
    buffer_.append(time_text_);
    buffer_.push_back(' ');
    std::string request_line;
    request_line.reserve(request.method_text.size() + request.target.size() + 10);
    request_line.append(request.method_text);
    request_line.push_back(' ');
    request_line.append(request.target);
    request_line.append(request.version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
    append_quoted(request_line);
    buffer_.push_back(' ');
    append_number(static_cast<std::uint64_t>(status));
    buffer_.push_back(' ');
    append_number(body_bytes);
    buffer_.push_back(' ');
    append_quoted(request.header("Referer"));
    buffer_.push_back(' ');
    append_quoted(request.header("User-Agent"));
    buffer_.push_back('\n');
    if (buffer_.size() >= flush_bytes_) flush();
}

void AccessLog::flush() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n <= 0) break;  // a full disk loses log lines, never requests
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
}

}  // namespace c10k::http
