#include "bench/sse_parser.hpp"

#include <algorithm>
#include <cstring>

namespace c10k::bench {
namespace {

constexpr unsigned char bom[3] = {0xef, 0xbb, 0xbf};

}  // namespace

void SseParser::reset() {
    partial_.clear();
    data_.clear();
    type_.clear();
    bom_matched_ = 0;
    bom_done_ = false;
    skip_lf_ = false;
    has_id_ = false;
    has_fields_ = false;
}

SseParser::Outcome SseParser::feed(const char* data, std::size_t size, OnEvent on_event,
                                   void* context) {
    std::size_t i = 0;
    // A BOM is only skipped at the very start of a stream, and its three bytes may arrive in
    // separate reads. Bytes that began to look like one but were not go back into the line.
    while (!bom_done_ && i < size) {
        if (static_cast<unsigned char>(data[i]) == bom[bom_matched_]) {
            ++i;
            if (++bom_matched_ == sizeof bom) bom_done_ = true;
            continue;
        }
        partial_.append(reinterpret_cast<const char*>(bom), bom_matched_);
        bom_done_ = true;
    }
    while (i < size) {
        if (skip_lf_) {
            skip_lf_ = false;
            if (data[i] == '\n') {
                ++i;
                continue;
            }
        }
        const char* start = data + i;
        std::size_t left = size - i;
        // memchr twice is cheaper than a byte loop; lines are usually short and LF-terminated.
        const void* lf = std::memchr(start, '\n', left);
        std::size_t limit =
            lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - start) : left;
        const void* cr = std::memchr(start, '\r', limit);
        std::size_t end =
            cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - start) : limit;
        if (end == left) {
            if (partial_.size() + left > max_bytes_) return Outcome::too_long;
            partial_.append(start, left);
            break;
        }
        bool ok;
        if (partial_.empty()) {
            ok = line(std::string_view(start, end), on_event, context);
        } else {
            if (partial_.size() + end > max_bytes_) return Outcome::too_long;
            partial_.append(start, end);
            ok = line(partial_, on_event, context);
            partial_.clear();
        }
        if (!ok) return Outcome::too_long;
        if (start[end] == '\r') skip_lf_ = true;
        i += end + 1;
    }
    return Outcome::ok;
}

bool SseParser::line(std::string_view text, OnEvent on_event, void* context) {
    if (text.empty()) {
        dispatch(on_event, context);
        return true;
    }
    if (text.front() == ':') {
        comments_++;
        return true;
    }
    std::string_view field = text;
    std::string_view value;
    auto colon = text.find(':');
    if (colon != std::string_view::npos) {
        field = text.substr(0, colon);
        value = text.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (data_.size() + value.size() + 1 > max_bytes_) return false;
        data_.append(value);
        data_.push_back('\n');
        has_fields_ = true;
    } else if (field == "event") {
        type_.assign(value);
        has_fields_ = true;
    } else if (field == "id") {
        // WHATWG: an id holding NUL is ignored (it could not be sent back in a header).
        if (value.find('\0') == std::string_view::npos) {
            last_event_id_.assign(value);
            has_id_ = true;
            has_fields_ = true;
        }
    } else if (field == "retry") {
        bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
        if (digits && value.size() <= 18) {
            std::uint64_t ms = 0;
            for (char c : value) ms = ms * 10 + static_cast<std::uint64_t>(c - '0');
            retry_ms_ = ms;
        }
    }
    // Any other field name is ignored, as the algorithm says.
    return true;
}

void SseParser::dispatch(OnEvent on_event, void* context) {
    if (has_fields_) {
        Event event;
        event.type = type_;
        event.data = data_;
        if (!event.data.empty()) event.data.remove_suffix(1);  // the LF after the last line
        event.last_event_id = last_event_id_;
        event.has_id = has_id_;
        event.dispatched = !data_.empty();
        on_event(context, event);
    }
    data_.clear();
    type_.clear();
    has_id_ = false;
    has_fields_ = false;
}

}  // namespace c10k::bench
