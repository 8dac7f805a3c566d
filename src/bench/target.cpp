#include "bench/target.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace c10k::bench {
namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    return std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
}

bool has_header(const std::vector<std::string>& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(), [&](const std::string& header) {
        return iequals_prefix(header, name) && header.size() > name.size() &&
               header[name.size()] == ':';
    });
}

}  // namespace

bool parse_url(std::string_view text, Url& out, std::string& error) {
    out = Url{};
    if (iequals_prefix(text, "https://")) {
        error = fmt::format("'{}': https is not supported; c10k bench speaks plain HTTP/1.1", text);
        return false;
    }
    if (!iequals_prefix(text, "http://")) {
        error = fmt::format("'{}' is not an http:// URL (for example http://127.0.0.1:8080/)", text);
        return false;
    }
    std::string_view rest = text.substr(7);
    auto slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        std::string_view path = rest.substr(slash);
        out.path.clear();
        if (path.front() == '?') out.path.push_back('/');
        out.path.append(path);
    }
    auto hash = out.path.find('#');
    if (hash != std::string::npos) out.path.resize(hash);
    if (authority.find('@') != std::string_view::npos) {
        error = fmt::format("'{}': user names in URLs are not supported", text);
        return false;
    }
    if (authority.empty()) {
        error = fmt::format("'{}' has no host", text);
        return false;
    }
    out.authority = std::string(authority);
    std::string_view port_text;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            error = fmt::format("'{}': unclosed '[' in an IPv6 address", text);
            return false;
        }
        out.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                error = fmt::format("'{}': expected ':PORT' after the IPv6 address", text);
                return false;
            }
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
        if (out.host.empty()) {
            error = fmt::format("'{}' has no host", text);
            return false;
        }
    }
    if (out.host.empty()) {
        error = fmt::format("'{}' has no host", text);
        return false;
    }
    if (!port_text.empty() || authority.back() == ':') {
        if (port_text.empty() || port_text.size() > 5 ||
            port_text.find_first_not_of("0123456789") != std::string_view::npos) {
            error = fmt::format("'{}': the port must be a number from 1 to 65535", text);
            return false;
        }
        out.port = std::stoi(std::string(port_text));
        if (out.port < 1 || out.port > 65535) {
            error = fmt::format("'{}': the port must be a number from 1 to 65535", text);
            return false;
        }
    }
    return true;
}

std::string build_request(const Url& url, const RequestSpec& spec) {
    std::string request = fmt::format("{} {} HTTP/1.1\r\n", spec.method, url.path);
    if (!has_header(spec.headers, "host")) request += fmt::format("Host: {}\r\n", url.authority);
    for (const auto& header : spec.headers) request += header + "\r\n";
    if (spec.close_after && !has_header(spec.headers, "connection")) {
        request += "Connection: close\r\n";
    }
    if (!spec.body.empty() || spec.method == "POST" || spec.method == "PUT") {
        if (!has_header(spec.headers, "content-length")) {
            request += fmt::format("Content-Length: {}\r\n", spec.body.size());
        }
    }
    request += "\r\n";
    request += spec.body;
    return request;
}

bool make_target(std::string_view text, const RequestSpec& spec, Target& out, std::string& error) {
    Url url;
    if (!parse_url(text, url, error)) return false;
    std::string host_port = url.host.find(':') != std::string::npos
                                ? fmt::format("[{}]:{}", url.host, url.port)
                                : fmt::format("{}:{}", url.host, url.port);
    if (!core::parse_endpoint(host_port, out.endpoint, error)) {
        error = fmt::format("'{}': {}", text, error);
        return false;
    }
    out.url = std::string(text);
    out.request = build_request(url, spec);
    out.head = spec.method == "HEAD";
    return true;
}

}  // namespace c10k::bench
