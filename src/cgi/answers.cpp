#include "cgi/answers.hpp"

#include <fmt/core.h>

#include "http/handler.hpp"
#include "http/response.hpp"

namespace c10k::cgi {

void answer_error(http::Response& response, std::string_view layer, int status,
                  std::string_view why) {
    response.set_status(status);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    if (status == 503) response.add_header("Retry-After", "1");
    response.set_body(
        fmt::format("c10k {}: {} {}: {}\n", layer, status, http::reason_phrase(status), why));
}

void pass_on(http::Handler* fallback, const http::Request& request, http::Response& response,
             std::string_view layer) {
    if (fallback != nullptr) {
        fallback->handle(request, response);
    } else {
        answer_error(response, layer, 404, "no such file");
    }
}

std::string_view port_of(std::string_view host) {
    std::size_t bracket = host.rfind(']');
    std::size_t colon = host.rfind(':');
    if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket))
        return "80";
    return host.substr(colon + 1);
}

}  // namespace c10k::cgi
