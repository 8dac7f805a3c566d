#include "cgi/environment.hpp"

#include <cctype>

namespace c10k::cgi {

namespace {

void add(std::vector<std::string>& env, std::string_view name, std::string_view value) {
    std::string entry;
    entry.reserve(name.size() + 1 + value.size());
    entry.append(name);
    entry.push_back('=');
    entry.append(value);
    env.push_back(std::move(entry));
}

}  // namespace

std::string header_variable(std::string_view name) {
    if (http::iequals(name, "proxy") || http::iequals(name, "content-length") ||
        http::iequals(name, "content-type") || http::iequals(name, "authorization") ||
        http::iequals(name, "proxy-authorization")) {
        return {};
    }
    std::string variable = "HTTP_";
    for (char c : name) {
        if (c == '-') {
            variable.push_back('_');
        } else if (std::isalnum(static_cast<unsigned char>(c))) {
            variable.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        } else {
            return {};  // a name no shell variable can hold: not passed on
        }
    }
    return variable;
}

std::vector<std::string> cgi_environment(const http::Request& request,
                                         const EnvironmentInfo& info) {
    std::vector<std::string> env;
    env.reserve(24 + request.headers.size());
    add(env, "GATEWAY_INTERFACE", "CGI/1.1");
    add(env, "SERVER_SOFTWARE", info.software);
    add(env, "SERVER_PROTOCOL",
        request.version_minor == 0 ? std::string_view("HTTP/1.0") : std::string_view("HTTP/1.1"));
    add(env, "REQUEST_METHOD", request.method_text);
    add(env, "SCRIPT_NAME", info.script_name);
    add(env, "PATH_INFO", info.path_info);
    add(env, "QUERY_STRING", request.query());
    add(env, "REQUEST_URI", request.target);
    add(env, "SCRIPT_FILENAME", info.script_filename);
    add(env, "DOCUMENT_ROOT", info.document_root);
    add(env, "REMOTE_ADDR", request.peer);
    add(env, "REMOTE_HOST", request.peer);
    std::string_view host = http::host_name(request.header("Host"));
    add(env, "SERVER_NAME", host);
    add(env, "SERVER_PORT", info.server_port);
    // A fixed PATH: the server's own environment (its secrets, its PATH) is not the program's.
    add(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
    if (request.body_streamed || !request.body.empty()) {
        if (request.body_streamed && request.body_length != http::Request::kChunkedBody) {
            add(env, "CONTENT_LENGTH", std::to_string(request.body_length));
        } else if (!request.body_streamed) {
            add(env, "CONTENT_LENGTH", std::to_string(request.body.size()));
        }
    }
    std::string_view type = request.header("Content-Type");
    if (!type.empty()) add(env, "CONTENT_TYPE", type);
    for (const http::Header& header : request.headers) {
        std::string variable = header_variable(header.name);
        if (variable.empty()) continue;
        // Repeated fields are joined with ", " (RFC 9110 section 5.3), the first one's
        // variable taking them all.
        std::string prefix = variable + "=";
        bool joined = false;
        for (std::string& entry : env) {
            if (entry.compare(0, prefix.size(), prefix) == 0) {
                entry.append(", ");
                entry.append(header.value);
                joined = true;
                break;
            }
        }
        if (!joined) add(env, variable, header.value);
    }
    return env;
}

}  // namespace c10k::cgi
