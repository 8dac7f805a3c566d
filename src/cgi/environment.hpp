#pragma once
// The meta-variables a CGI program gets (RFC 3875 section 4.1), plus the ones programs expect in
// practice (SCRIPT_FILENAME, REQUEST_URI, DOCUMENT_ROOT, as Apache and nginx set them).
// Request headers become HTTP_* variables, except Proxy (the "httpoxy" rule: HTTP_PROXY would
// pass for the proxy setting of every HTTP library in the program), the ones that have their
// own variables (Content-Length, Content-Type), and Authorization (as Apache does by default).

#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace c10k::cgi {

/// What the environment says beyond the request itself.
struct EnvironmentInfo {
    std::string_view script_name;
    std::string_view path_info;
    std::string_view script_filename;  ///< absolute path of the script
    std::string_view document_root;    ///< the CGI directory
    std::string_view server_port;      ///< the port the client connected to, or empty
    std::string_view software;         ///< "c10k/0.1.0"
};

/// "NAME=value" strings for execve, in a stable order.
std::vector<std::string> cgi_environment(const http::Request& request,
                                         const EnvironmentInfo& info);

/// HTTP_ + the name upper-cased with '-' as '_' ("X-Forwarded-For" -> "HTTP_X_FORWARDED_FOR");
/// empty for the headers that get no variable (see above).
std::string header_variable(std::string_view name);

}  // namespace c10k::cgi
