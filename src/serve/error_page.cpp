#include "serve/error_page.hpp"

#include <string>

#include "serve/path.hpp"

namespace c10k::serve {

void set_error_page(http::Response& response, int status) {
    std::string title = std::to_string(status);
    title.push_back(' ');
    title.append(http::reason_phrase(status));

    std::string page;
    page.reserve(128 + 2 * title.size());
    page.append("<!DOCTYPE html>\n<html><head><title>");
    page.append(title);
    page.append("</title></head>\n<body><h1>");
    page.append(title);
    page.append("</h1></body></html>\n");

    response.set_status(status);
    response.add_header("Content-Type", "text/html; charset=utf-8");
    response.set_body(std::move(page));
}

void set_directory_redirect(http::Response& response, std::string_view normalized,
                            std::string_view query) {
    std::string location = percent_encode_path(normalized);
    location.push_back('/');
    if (!query.empty()) {
        location.push_back('?');
        location.append(query);
    }
    set_error_page(response, 301);
    response.add_header("Location", location);
}

}  // namespace c10k::serve
