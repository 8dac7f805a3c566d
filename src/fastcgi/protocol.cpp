#include "fastcgi/protocol.hpp"

namespace c10k::fastcgi {

namespace {

void append_header(std::string& out, RecordType type, std::uint16_t request_id,
                   std::size_t content_length, std::size_t padding) {
    char header[kHeaderBytes] = {
        static_cast<char>(kVersion),
        static_cast<char>(type),
        static_cast<char>(request_id >> 8),
        static_cast<char>(request_id & 0xff),
        static_cast<char>((content_length >> 8) & 0xff),
        static_cast<char>(content_length & 0xff),
        static_cast<char>(padding),
        0,
    };
    out.append(header, sizeof header);
}

void append_length(std::string& out, std::size_t length) {
    if (length < 128) {
        out.push_back(static_cast<char>(length));
        return;
    }
    out.push_back(static_cast<char>(((length >> 24) & 0x7f) | 0x80));
    out.push_back(static_cast<char>((length >> 16) & 0xff));
    out.push_back(static_cast<char>((length >> 8) & 0xff));
    out.push_back(static_cast<char>(length & 0xff));
}

/// A pair's length at `at`, advancing it; false when the bytes run out.
bool read_length(std::string_view content, std::size_t& at, std::size_t& length) {
    if (at >= content.size()) return false;
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(content[i]); };
    if ((byte(at) & 0x80) == 0) {
        length = byte(at);
        at += 1;
        return true;
    }
    if (at + 4 > content.size()) return false;
    length = (static_cast<std::size_t>(byte(at) & 0x7f) << 24) |
             (static_cast<std::size_t>(byte(at + 1)) << 16) |
             (static_cast<std::size_t>(byte(at + 2)) << 8) | byte(at + 3);
    at += 4;
    return true;
}

}  // namespace

void append_records(std::string& out, RecordType type, std::uint16_t request_id,
                    std::string_view content) {
    do {
        std::size_t length = content.size() < kMaxContent ? content.size() : kMaxContent;
        // Padding to 8 keeps the next header aligned in the application's buffer (the
        // specification's advice; php-fpm accepts either).
        std::size_t padding = (8 - length % 8) % 8;
        append_header(out, type, request_id, length, padding);
        out.append(content.data(), length);
        out.append(padding, '\0');
        content.remove_prefix(length);
    } while (!content.empty());
}

void append_begin_request(std::string& out, std::uint16_t request_id, bool keep_conn) {
    append_header(out, RecordType::begin_request, request_id, 8, 0);
    char body[8] = {static_cast<char>(kRoleResponder >> 8),
                    static_cast<char>(kRoleResponder & 0xff),
                    static_cast<char>(keep_conn ? kKeepConn : 0)};
    out.append(body, sizeof body);
}

void append_abort_request(std::string& out, std::uint16_t request_id) {
    append_header(out, RecordType::abort_request, request_id, 0, 0);
}

void append_pair(std::string& out, std::string_view name, std::string_view value) {
    append_length(out, name.size());
    append_length(out, value.size());
    out.append(name);
    out.append(value);
}

std::string encode_request_head(std::uint16_t request_id, bool keep_conn,
                                const std::vector<std::string>& environment) {
    std::string pairs;
    for (const std::string& entry : environment) {
        std::size_t equals = entry.find('=');
        if (equals == std::string::npos) continue;
        append_pair(pairs, std::string_view(entry).substr(0, equals),
                    std::string_view(entry).substr(equals + 1));
    }
    std::string out;
    out.reserve(pairs.size() + 64);
    append_begin_request(out, request_id, keep_conn);
    if (!pairs.empty()) append_records(out, RecordType::params, request_id, pairs);
    append_records(out, RecordType::params, request_id, {});  // the end of PARAMS
    return out;
}

bool parse_pairs(std::string_view content, std::vector<std::pair<std::string, std::string>>& out) {
    std::size_t at = 0;
    while (at < content.size()) {
        std::size_t name_length = 0;
        std::size_t value_length = 0;
        if (!read_length(content, at, name_length) || !read_length(content, at, value_length)) {
            return false;
        }
        if (name_length > content.size() - at || value_length > content.size() - at - name_length) {
            return false;
        }
        out.emplace_back(std::string(content.substr(at, name_length)),
                         std::string(content.substr(at + name_length, value_length)));
        at += name_length + value_length;
    }
    return true;
}

void append_get_values(std::string& out) {
    std::string pairs;
    for (std::string_view name : {"FCGI_MPXS_CONNS", "FCGI_MAX_CONNS", "FCGI_MAX_REQS"}) {
        append_pair(pairs, name, {});
    }
    append_records(out, RecordType::get_values, 0, pairs);
}

void set_request_id(std::string& records, std::uint16_t request_id) {
    std::size_t at = 0;
    while (at + kHeaderBytes <= records.size()) {
        records[at + 2] = static_cast<char>(request_id >> 8);
        records[at + 3] = static_cast<char>(request_id & 0xff);
        auto byte = [&](std::size_t i) { return static_cast<unsigned char>(records[at + i]); };
        at += kHeaderBytes + ((static_cast<std::size_t>(byte(4)) << 8) | byte(5)) + byte(6);
    }
}

}  // namespace c10k::fastcgi
