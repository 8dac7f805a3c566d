#pragma once
// Which pool serves a request, as the 2002 article's layer-7 switch routes by URL (reads to one
// pool, CGI and other side effects to another) and as HAProxy's use_backend rules do: routes are
// tried in the order written, and the first whose every condition holds wins. A condition with
// several values holds when any of them does.
//
// Paths are compared after decoding and normalising (serve/path.hpp), as nginx's locations
// are: "/static/../cgi-bin/x" and "/%63gi-bin/x" are "/cgi-bin/x", so an encoded or dotted path
// cannot slip past a route meant for it. A path that cannot be normalised (a bad escape, ".."
// above the root) matches no path condition. Regular expressions are PCRE2's (as nginx and
// HAProxy use), JIT-compiled, with a match limit so that no pattern can make a request cost
// more than a bounded amount of work.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace c10k::proxy {

/// `Name: value` (the field is present with exactly that value, its name compared without
/// case) or `Name` (the field is present).
struct HeaderCondition {
    std::string name;
    std::string value;
    bool any_value = true;
};

struct RouteSpec {
    /// Lowercase names, exact ("example.com") or a leading wildcard ("*.example.org"); the Host
    /// header is compared without its port and case.
    std::vector<std::string> hosts;
    std::string path;         ///< the whole normalised path; empty: any
    std::string path_prefix;  ///< empty: any
    std::string path_regex;   ///< PCRE2, unanchored unless the pattern anchors it; empty: any
    std::vector<http::Method> methods;
    std::vector<std::string> method_texts;  ///< methods llhttp knows but Method does not name
    std::vector<HeaderCondition> headers;   ///< every one must hold
    std::size_t pool = 0;                   ///< index of the pool that serves a match
    /// POST and PATCH may be retried on this route as idempotent methods are (its backends are
    /// idempotent by design).
    bool retry_non_idempotent = false;
    std::string name;  ///< for messages: where the route was written
};

/// "GET" -> Method::get; other upper-case tokens -> Method::other (compared by text).
http::Method method_from_text(std::string_view text);

/// Parses "Name: value" or "Name". False with `error` for an empty or malformed name.
bool parse_header_condition(std::string_view text, HeaderCondition& out, std::string& error);

/// The routes of one loop. Regular expressions are compiled once per table; match data is the
/// table's own, so a table is used by one loop at a time.
class RouteTable {
public:
    /// Compiles `routes`; null with `error` ("route NAME: path_regex ...: why") when a
    /// pattern does not compile.
    static std::unique_ptr<RouteTable> build(std::vector<RouteSpec> routes, std::string& error);
    ~RouteTable();
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;

    /// The first route the request matches, or null.
    const RouteSpec* match(const http::Request& request);

    std::size_t size() const { return routes_.size(); }

private:
    struct Compiled;
    RouteTable() = default;
    bool matches(const RouteSpec& route, const Compiled* regex, const http::Request& request,
                 std::string_view path, bool path_ok);

    std::vector<RouteSpec> routes_;
    std::vector<std::unique_ptr<Compiled>> regexes_;  ///< per route; null where none
    bool any_path_condition_ = false;
};

}  // namespace c10k::proxy
