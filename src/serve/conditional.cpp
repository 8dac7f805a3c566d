#include "serve/conditional.hpp"

#include <cstdio>

#include "core/text.hpp"
#include "http/date.hpp"

namespace c10k::serve {

namespace {

/// Splits one entity-tag off the front of `text` (after optional whitespace). On success
/// `weak` tells whether it had "W/", and `opaque` is the quoted part including its quotes.
bool take_entity_tag(std::string_view& text, bool& weak, std::string_view& opaque) {
    while (!text.empty() && core::is_ows(text.front())) text.remove_prefix(1);
    weak = text.starts_with("W/");
    if (weak) text.remove_prefix(2);
    if (text.empty() || text.front() != '"') return false;
    std::size_t close = text.find('"', 1);
    if (close == std::string_view::npos) return false;
    opaque = text.substr(0, close + 1);
    text.remove_prefix(close + 1);
    return true;
}

/// The quoted part of our own tag (which may in principle be weak).
std::string_view opaque_of(std::string_view etag) {
    if (etag.starts_with("W/")) etag.remove_prefix(2);
    return etag;
}

}  // namespace

std::string make_etag(std::time_t mtime_seconds, std::uint64_t size) {
    char buffer[48];
    int n = std::snprintf(buffer, sizeof buffer, "\"%llx-%llx\"",
                          static_cast<unsigned long long>(mtime_seconds),
                          static_cast<unsigned long long>(size));
    return std::string(buffer, static_cast<std::size_t>(n));
}

bool etag_list_matches(std::string_view field, std::string_view etag) {
    std::string_view rest = field;
    rest = core::trim_ows(rest);
    if (rest == "*") return true;

    std::string_view ours = opaque_of(etag);
    while (true) {
        bool weak = false;
        std::string_view opaque;
        if (!take_entity_tag(rest, weak, opaque)) return false;
        if (opaque == ours) return true;
        while (!rest.empty() && core::is_ows(rest.front())) rest.remove_prefix(1);
        if (rest.empty()) return false;
        if (rest.front() != ',') return false;
        rest.remove_prefix(1);
        // Empty list elements (", ,") are allowed by the list syntax.
        while (!rest.empty() && (core::is_ows(rest.front()) || rest.front() == ',')) {
            rest.remove_prefix(1);
        }
        if (rest.empty()) return false;
    }
}

bool is_not_modified(const Conditions& conditions, const Validators& validators) {
    if (conditions.if_none_match)
        return etag_list_matches(*conditions.if_none_match, validators.etag);
    if (conditions.if_modified_since) {
        std::optional<std::time_t> since = http::parse_http_date(*conditions.if_modified_since);
        return since && validators.last_modified <= *since;
    }
    return false;
}

bool if_range_allows_partial(std::string_view if_range, const Validators& validators) {
    if_range = core::trim_ows(if_range);
    if (if_range.starts_with("W/")) return false;
    if (if_range.starts_with("\"")) {
        // Strong comparison: both tags strong and the same characters.
        return !validators.etag.starts_with("W/") && if_range == validators.etag;
    }
    std::optional<std::time_t> date = http::parse_http_date(if_range);
    return date && *date == validators.last_modified;
}

}  // namespace c10k::serve
