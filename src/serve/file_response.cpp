#include "serve/file_response.hpp"

#include "http/date.hpp"
#include "serve/conditional.hpp"
#include "serve/error_page.hpp"
#include "serve/mime.hpp"
#include "serve/range.hpp"

namespace c10k::serve {

namespace {

void append_line(std::string& lines, std::string_view name, std::string_view value) {
    lines.append(name);
    lines.append(": ");
    lines.append(value);
    lines.append("\r\n");
}

std::optional<std::string_view> optional_header(const http::Request& request,
                                                std::string_view name) {
    if (!request.has_header(name)) return std::nullopt;
    return request.header(name);
}

void set_body_slice(http::Response& response, const FileBody& body, std::uint64_t offset,
                    std::uint64_t length) {
    if (body.blob) {
        response.set_body(body.blob, offset, length);
    } else {
        response.set_file_body(body.file, offset, length);
    }
}

std::string content_range(std::uint64_t first, std::uint64_t last, std::uint64_t size) {
    std::string value = "bytes ";
    value.append(std::to_string(first));
    value.push_back('-');
    value.append(std::to_string(last));
    value.push_back('/');
    value.append(std::to_string(size));
    return value;
}

}  // namespace

FileHeaders describe_file(std::string_view name, const FileStamp& stamp) {
    FileHeaders headers;
    headers.size = stamp.size;
    headers.last_modified = static_cast<std::time_t>(stamp.mtime_seconds);
    headers.etag = make_etag(headers.last_modified, stamp.size);

    std::string date = http::format_http_date(headers.last_modified);
    append_line(headers.validator_lines, "ETag", headers.etag);
    append_line(headers.validator_lines, "Last-Modified", date);

    append_line(headers.header_lines, "Content-Type", mime_type(name));
    headers.header_lines.append(headers.validator_lines);
    append_line(headers.header_lines, "Accept-Ranges", "bytes");
    return headers;
}

void respond_with_file(const http::Request& request, http::Response& response,
                       const FileHeaders& headers, const FileBody& body) {
    Validators validators{headers.etag, headers.last_modified};
    Conditions conditions{optional_header(request, "If-None-Match"),
                          optional_header(request, "If-Modified-Since")};
    if (is_not_modified(conditions, validators)) {
        response.set_status(304);
        response.add_header_lines(headers.validator_lines);
        response.set_body_length_only(0);
        return;
    }

    std::string_view range_field = request.header("Range");
    if (!range_field.empty()) {
        std::optional<std::string_view> if_range = optional_header(request, "If-Range");
        if (!if_range || if_range_allows_partial(*if_range, validators)) {
            RangeDecision range = decide_range(range_field, headers.size);
            if (range.kind == RangeDecision::Kind::partial) {
                response.set_status(206);
                response.add_header_lines(headers.header_lines);
                response.add_header(
                    "Content-Range",
                    content_range(range.offset, range.offset + range.length - 1, headers.size));
                set_body_slice(response, body, range.offset, range.length);
                return;
            }
            if (range.kind == RangeDecision::Kind::unsatisfiable) {
                set_error_page(response, 416);
                response.add_header("Content-Range", "bytes */" + std::to_string(headers.size));
                return;
            }
        }
    }

    response.set_status(200);
    response.add_header_lines(headers.header_lines);
    set_body_slice(response, body, 0, headers.size);
}

}  // namespace c10k::serve
