#include "bench/sse_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace c10k::bench {
namespace {

constexpr unsigned char bom[3] = {0xef, 0xbb, 0xbf};

/// The number `text` spells when it is the shortest decimal form of one (no sign, no leading
/// zero, fits 64 bits), so that formatting it again gives back exactly `text`.
std::optional<std::uint64_t> canonical_decimal(std::string_view text) {
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

/// The parts of the event being built that still lie in the bytes of the current feed():
/// copied into the spill only if the event is not whole when feed() returns.
struct SseParser::InFeed {
    std::string_view data;  ///< valid while data_in_feed
    std::string_view type;  ///< valid while type_in_feed
    bool data_in_feed = false;
    bool type_in_feed = false;
};

std::string_view SseParser::data_so_far(const InFeed& in_feed) const {
    // The spill is freed while it holds nothing, even after a `data` line with no value.
    if (in_feed.data_in_feed) return in_feed.data;
    return spill_ ? std::string_view(spill_->data) : std::string_view();
}

void SseParser::reset() {
    spill_.reset();
    bom_matched_ = 0;
    bom_done_ = false;
    skip_lf_ = false;
    has_id_ = false;
    has_fields_ = false;
    has_data_ = false;
}

std::string SseParser::last_event_id() const {
    switch (id_kind_) {
        case IdKind::number:
            return std::to_string(id_number_);
        case IdKind::text:
            return *id_text_;
        case IdKind::empty:
            break;
    }
    return {};
}

SseParser::Outcome SseParser::feed(const char* data, std::size_t size, OnEvent on_event,
                                   void* context) {
    InFeed in_feed;
    Outcome outcome = parse(data, size, in_feed, on_event, context);
    // The caller reuses its buffer: what the unfinished event still points at there is copied.
    if (in_feed.data_in_feed) spill().data.assign(in_feed.data);
    if (in_feed.type_in_feed) spill().type.assign(in_feed.type);
    // Between events nothing is held: clear() would keep the strings' capacity for good.
    if (spill_ && spill_->empty()) spill_.reset();
    return outcome;
}

SseParser::Outcome SseParser::parse(const char* data, std::size_t size, InFeed& in_feed,
                                    OnEvent on_event, void* context) {
    std::size_t i = 0;
    // A BOM is only skipped at the very start of a stream, and its three bytes may arrive in
    // separate reads. Bytes that began to look like one but were not go back into the line.
    while (!bom_done_ && i < size) {
        if (static_cast<unsigned char>(data[i]) == bom[bom_matched_]) {
            ++i;
            if (++bom_matched_ == sizeof bom) bom_done_ = true;
            continue;
        }
        if (bom_matched_ > 0)
            spill().partial.append(reinterpret_cast<const char*>(bom), bom_matched_);
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
        std::size_t partial_size = spill_ ? spill_->partial.size() : 0;
        if (end == left) {
            if (partial_size + left > max_bytes_) return Outcome::too_long;
            spill().partial.append(start, left);
            break;
        }
        bool ok;
        if (partial_size == 0) {
            ok = line(std::string_view(start, end), true, in_feed, on_event, context);
        } else {
            if (partial_size + end > max_bytes_) return Outcome::too_long;
            std::string& partial = spill_->partial;
            partial.append(start, end);
            ok = line(partial, false, in_feed, on_event, context);
            partial.clear();
        }
        if (!ok) return Outcome::too_long;
        if (start[end] == '\r') skip_lf_ = true;
        i += end + 1;
    }
    return Outcome::ok;
}

bool SseParser::line(std::string_view text, bool stable, InFeed& in_feed, OnEvent on_event,
                     void* context) {
    if (text.empty()) {
        dispatch(in_feed, on_event, context);
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
        // The WHATWG data buffer holds each line and an LF; here the last LF is left off.
        std::size_t held = has_data_ ? data_so_far(in_feed).size() + 1 : 0;
        if (held + value.size() + 1 > max_bytes_) return false;
        if (!has_data_ && stable) {
            in_feed.data = value;  // the usual case: one data line, whole in this read
            in_feed.data_in_feed = true;
        } else {
            std::string& buffer = spill().data;
            if (in_feed.data_in_feed) buffer.assign(in_feed.data);
            in_feed.data_in_feed = false;
            if (has_data_) buffer.push_back('\n');
            buffer.append(value);
        }
        has_data_ = true;
        has_fields_ = true;
    } else if (field == "event") {
        if (stable) {
            in_feed.type = value;
            in_feed.type_in_feed = true;
        } else {
            spill().type.assign(value);
            in_feed.type_in_feed = false;
        }
        has_fields_ = true;
    } else if (field == "id") {
        // WHATWG: an id holding NUL is ignored (it could not be sent back in a header).
        if (value.find('\0') == std::string_view::npos) {
            set_last_event_id(value);
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
            has_retry_ = true;
        }
    }
    // Any other field name is ignored, as the algorithm says.
    return true;
}

void SseParser::set_last_event_id(std::string_view value) {
    if (value.empty()) {
        id_kind_ = IdKind::empty;
        id_text_.reset();
    } else if (auto number = canonical_decimal(value)) {
        id_kind_ = IdKind::number;
        id_number_ = *number;
        id_text_.reset();
    } else {
        id_kind_ = IdKind::text;
        if (id_text_) {
            id_text_->assign(value);
        } else {
            id_text_ = std::make_unique<std::string>(value);
        }
    }
}

void SseParser::dispatch(InFeed& in_feed, OnEvent on_event, void* context) {
    if (has_fields_) {
        Event event;
        if (in_feed.type_in_feed) {
            event.type = in_feed.type;
        } else if (spill_) {
            event.type = spill_->type;
        }
        event.data = data_so_far(in_feed);
        char digits[20];
        switch (id_kind_) {
            case IdKind::number: {
                auto result = std::to_chars(digits, digits + sizeof digits, id_number_);
                event.last_event_id = std::string_view(digits, result.ptr - digits);
                break;
            }
            case IdKind::text:
                event.last_event_id = *id_text_;
                break;
            case IdKind::empty:
                break;
        }
        event.has_id = has_id_;
        event.dispatched = has_data_;
        on_event(context, event);
    }
    in_feed = InFeed{};
    if (spill_) {
        spill_->data.clear();
        spill_->type.clear();
    }
    has_data_ = false;
    has_id_ = false;
    has_fields_ = false;
}

}  // namespace c10k::bench
