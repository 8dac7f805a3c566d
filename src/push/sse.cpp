#include "push/sse.hpp"

#include <charconv>

namespace c10k::push {

namespace {

void append_number(std::string& out, std::uint64_t value) {
    char digits[20];
    auto [end, error] = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, end);
}

}  // namespace

bool valid_event_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

void append_sse_event(std::string& out, const Message& m) {
    out.append("id: ");
    append_number(out, m.id);
    out.push_back('\n');
    if (!m.event.empty() && valid_event_name(m.event)) {
        out.append("event: ").append(m.event).push_back('\n');
    }
    // Every line break (CRLF, LF or a lone CR, as the parser sees them) ends a data line; the text
    // after the last break, empty or not, is the last data line. "data: " keeps a leading space of
    // the payload: the parser strips only the one space after the colon.
    std::string_view rest = m.data;
    for (;;) {
        std::size_t brk = rest.find_first_of("\r\n");
        out.append("data: ").append(rest.substr(0, brk)).push_back('\n');
        if (brk == std::string_view::npos) break;
        std::size_t width =
            rest[brk] == '\r' && brk + 1 < rest.size() && rest[brk + 1] == '\n' ? 2 : 1;
        rest.remove_prefix(brk + width);
    }
    out.push_back('\n');
}

void append_sse_history_lost(std::string& out, std::uint64_t requested, std::uint64_t first_held) {
    // Ids are JSON strings because they exceed 2^53, where JavaScript numbers lose digits.
    out.append("event: history-lost\ndata: {\"last_event_id\":\"");
    append_number(out, requested);
    out.append("\",\"first_available\":\"");
    if (first_held != 0) append_number(out, first_held);
    out.append("\"}\n\n");
}

void append_sse_retry(std::string& out, std::int64_t ms) {
    out.append("retry: ");
    append_number(out, ms > 0 ? static_cast<std::uint64_t>(ms) : 0);
    out.append("\n\n");
}

std::string_view sse_heartbeat() {
    return ":\n\n";
}

std::string_view sse_stream_open() {
    return ":ok\n\n";
}

}  // namespace c10k::push
