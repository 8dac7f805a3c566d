#include "proxy/routes.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include <fmt/core.h>

#include "core/text.hpp"
#include "serve/path.hpp"

namespace c10k::proxy {

namespace {

/// Backtracking steps one regex may take per request: far above what a sane route pattern
/// needs on a path, far below what would let a hostile path stall the loop.
constexpr std::uint32_t kMatchLimit = 100'000;

/// Whether the Host header's name is `pattern` (lowercase; "*.x" matches names ending in ".x").
bool host_matches(std::string_view name, std::string_view pattern) {
    if (pattern.starts_with("*.")) {
        std::string_view suffix = pattern.substr(1);  // ".x"
        return name.size() > suffix.size() &&
               http::iequals(name.substr(name.size() - suffix.size()), suffix);
    }
    return http::iequals(name, pattern);
}

}  // namespace

struct RouteTable::Compiled {
    pcre2_code* code = nullptr;
    pcre2_match_data* data = nullptr;
    pcre2_match_context* context = nullptr;

    ~Compiled() {
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
        pcre2_code_free(code);
    }
};

http::Method method_from_text(std::string_view text) {
    static constexpr std::pair<std::string_view, http::Method> kMethods[] = {
        {"GET", http::Method::get},         {"HEAD", http::Method::head},
        {"POST", http::Method::post},       {"PUT", http::Method::put},
        {"DELETE", http::Method::delete_},  {"OPTIONS", http::Method::options},
        {"PATCH", http::Method::patch},     {"TRACE", http::Method::trace},
        {"CONNECT", http::Method::connect},
    };
    for (const auto& [name, method] : kMethods) {
        if (name == text) return method;
    }
    return http::Method::other;
}

bool parse_header_condition(std::string_view text, HeaderCondition& out, std::string& error) {
    std::size_t colon = text.find(':');
    std::string_view name = core::trim_ows(text.substr(0, colon));
    if (!core::is_token(name)) {
        error = fmt::format("'{}': expected \"Name\" or \"Name: value\" with a header name", text);
        return false;
    }
    out.name = std::string(name);
    out.any_value = colon == std::string_view::npos;
    out.value = out.any_value ? std::string() : std::string(core::trim_ows(text.substr(colon + 1)));
    return true;
}

std::unique_ptr<RouteTable> RouteTable::build(std::vector<RouteSpec> routes, std::string& error) {
    std::unique_ptr<RouteTable> table(new RouteTable());
    for (const RouteSpec& route : routes) {
        if (!route.path.empty() || !route.path_prefix.empty() || !route.path_regex.empty()) {
            table->any_path_condition_ = true;
        }
        if (route.path_regex.empty()) {
            table->regexes_.push_back(nullptr);
            continue;
        }
        auto compiled = std::make_unique<Compiled>();
        int code = 0;
        PCRE2_SIZE offset = 0;
        compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(route.path_regex.data()),
                                       route.path_regex.size(), 0, &code, &offset, nullptr);
        if (compiled->code == nullptr) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(code, message, sizeof message);
            error = fmt::format("{}: path_regex '{}': {} at offset {}", route.name,
                                route.path_regex, reinterpret_cast<const char*>(message), offset);
            return nullptr;
        }
        // Without JIT (a kernel that forbids executable memory) the interpreter still works.
        (void)pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);
        compiled->data = pcre2_match_data_create_from_pattern(compiled->code, nullptr);
        compiled->context = pcre2_match_context_create(nullptr);
        if (compiled->data == nullptr || compiled->context == nullptr) {
            error = fmt::format("{}: path_regex: out of memory", route.name);
            return nullptr;
        }
        pcre2_set_match_limit(compiled->context, kMatchLimit);
        table->regexes_.push_back(std::move(compiled));
    }
    table->routes_ = std::move(routes);
    return table;
}

RouteTable::~RouteTable() = default;

const RouteSpec* RouteTable::match(const http::Request& request) {
    // Normalised once per request, and only when some route looks at the path; a plain path
    // (the usual case) is its own normal form and costs no copy.
    std::string_view raw = request.path();
    std::optional<std::string> normalized;
    std::string_view path = raw;
    bool path_ok = true;
    if (any_path_condition_ && !serve::is_plain_path(raw)) {
        normalized = serve::normalize_path(raw);
        path_ok = normalized.has_value();
        path = path_ok ? std::string_view(*normalized) : std::string_view();
    }
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        if (matches(routes_[i], regexes_[i].get(), request, path, path_ok)) return &routes_[i];
    }
    return nullptr;
}

bool RouteTable::matches(const RouteSpec& route, const Compiled* regex,
                         const http::Request& request, std::string_view path, bool path_ok) {
    if (!route.methods.empty() || !route.method_texts.empty()) {
        bool any = request.method != http::Method::other &&
                   std::find(route.methods.begin(), route.methods.end(), request.method) !=
                       route.methods.end();
        if (!any && request.method == http::Method::other) {
            any = std::find(route.method_texts.begin(), route.method_texts.end(),
                            request.method_text) != route.method_texts.end();
        }
        if (!any) return false;
    }
    if (!route.hosts.empty()) {
        std::string_view name = http::host_name(request.header("Host"));
        bool any =
            std::any_of(route.hosts.begin(), route.hosts.end(),
                        [name](const std::string& host) { return host_matches(name, host); });
        if (!any) return false;
    }
    bool wants_path = !route.path.empty() || !route.path_prefix.empty() || regex != nullptr;
    if (wants_path && !path_ok) return false;
    if (!route.path.empty() && path != route.path) return false;
    if (!route.path_prefix.empty() && !path.starts_with(route.path_prefix)) return false;
    if (regex != nullptr) {
        int rc = pcre2_match(regex->code, reinterpret_cast<PCRE2_SPTR>(path.data()), path.size(), 0,
                             0, regex->data, regex->context);
        // A pattern past its match limit matches nothing (the request goes on down the list).
        if (rc < 0) return false;
    }
    for (const HeaderCondition& condition : route.headers) {
        bool any = false;
        for (const http::Header& header : request.headers) {
            if (!http::iequals(header.name, condition.name)) continue;
            if (condition.any_value || header.value == condition.value) {
                any = true;
                break;
            }
        }
        if (!any) return false;
    }
    return true;
}

}  // namespace c10k::proxy
