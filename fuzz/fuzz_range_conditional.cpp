// Range and conditional-request headers: decide_range, the entity-tag list matcher, HTTP dates,
// If-None-Match / If-Modified-Since and If-Range.
//
// The input is up to six newline-separated fields: Range, If-None-Match, If-Modified-Since,
// If-Range, the file length and its mtime (decimal). Missing or unparsable numbers are chosen
// from the input's hash, often small, so that boundaries like "bytes=5-" on 5 bytes are met.
//
// Checks on every input:
//  - a partial range is non-empty and lies within the file (no overflow of offset + length);
//  - the same range written back as "bytes=first-last" is decided the same way;
//  - a date that parses formats to 29 characters and parses back to the same second;
//  - a file's own entity-tag matches itself and "*", its weak form never satisfies If-Range,
//    and its own Last-Modified satisfies If-Range;
//  - If-None-Match, when present, decides alone.

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "http/date.hpp"
#include "serve/conditional.hpp"
#include "serve/range.hpp"

namespace {

using namespace c10k;

std::vector<std::string_view> split_fields(std::string_view input) {
    std::vector<std::string_view> fields;
    while (fields.size() < 5) {
        std::size_t newline = input.find('\n');
        if (newline == std::string_view::npos) break;
        fields.push_back(input.substr(0, newline));
        input.remove_prefix(newline + 1);
    }
    fields.push_back(input);
    while (fields.size() < 6) fields.emplace_back();
    return fields;
}

std::uint64_t number_or(std::string_view text, std::uint64_t fallback) {
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && !text.empty() ? value
                                                                                       : fallback;
}

std::uint64_t some_length(fuzz::SplitPlan& plan) {
    switch (plan.below(4)) {
        case 0: return plan.below(16);
        case 1: return plan.below(1u << 20);
        case 2: return std::numeric_limits<std::uint64_t>::max() - plan.below(16);
        default: return plan.below(std::numeric_limits<std::uint64_t>::max());
    }
}

void check_range(std::string_view field, std::uint64_t length) {
    serve::RangeDecision decision = serve::decide_range(field, length);
    if (decision.kind != serve::RangeDecision::Kind::partial) return;
    C10K_FUZZ_CHECK(decision.length > 0, std::string(field));
    C10K_FUZZ_CHECK(decision.offset < length, std::string(field));
    C10K_FUZZ_CHECK(decision.length <= length - decision.offset, std::string(field));
    std::string again = "bytes=" + std::to_string(decision.offset) + "-" +
                        std::to_string(decision.offset + decision.length - 1);
    serve::RangeDecision same = serve::decide_range(again, length);
    C10K_FUZZ_CHECK(same.kind == decision.kind && same.offset == decision.offset &&
                        same.length == decision.length,
                    std::string(field) + " vs " + again);
}

void check_date(std::string_view text) {
    std::optional<std::time_t> when = http::parse_http_date(text);
    if (!when) return;
    std::string formatted = http::format_http_date(*when);
    C10K_FUZZ_CHECK(formatted.size() == 29, formatted);
    C10K_FUZZ_CHECK(http::parse_http_date(formatted) == when, std::string(text) + " -> " + formatted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz::SplitPlan plan(data, size);
    auto fields = split_fields(input);
    std::uint64_t length = number_or(fields[4], some_length(plan));
    // Seconds that gmtime can format as a four-digit year (up to 9999-12-31).
    std::uint64_t mtime = number_or(fields[5], plan.below(253402300800ull)) % 253402300800ull;

    check_range(fields[0], length);
    for (std::size_t i = 1; i < 4; ++i) check_date(fields[i]);

    std::string etag = serve::make_etag(static_cast<std::time_t>(mtime), length);
    serve::Validators validators{etag, static_cast<std::time_t>(mtime)};
    C10K_FUZZ_CHECK(serve::etag_list_matches(etag, etag), etag);
    C10K_FUZZ_CHECK(serve::etag_list_matches("*", etag), etag);
    C10K_FUZZ_CHECK(serve::if_range_allows_partial(etag, validators), etag);
    C10K_FUZZ_CHECK(!serve::if_range_allows_partial("W/" + etag, validators), etag);
    std::string last_modified = http::format_http_date(static_cast<std::time_t>(mtime));
    C10K_FUZZ_CHECK(serve::if_range_allows_partial(last_modified, validators), last_modified);

    serve::Conditions conditions;
    if (!fields[1].empty()) conditions.if_none_match = fields[1];
    if (!fields[2].empty()) conditions.if_modified_since = fields[2];
    bool not_modified = serve::is_not_modified(conditions, validators);
    if (conditions.if_none_match) {
        C10K_FUZZ_CHECK(not_modified == serve::etag_list_matches(fields[1], etag),
                        std::string(fields[1]));
    }
    (void)serve::if_range_allows_partial(fields[3], validators);
    (void)serve::etag_list_matches(fields[1], fields[3]);
    return 0;
}
