#pragma once
// The small HTML pages a static server answers with when it does not send a file.

#include <string_view>

#include "http/response.hpp"

namespace c10k::serve {

/// Sets `status`, "Content-Type: text/html; charset=utf-8" and a tiny page naming the status.
/// The page never echoes anything from the request, so it needs no escaping.
void set_error_page(http::Response& response, int status);

/// 301 to the directory form of a path: Location is `normalized` re-encoded plus "/", then
/// "?query" when the request had one. Browsers need the slash so relative links inside the
/// directory's index.html resolve against the directory.
void set_directory_redirect(http::Response& response, std::string_view normalized,
                            std::string_view query);

}  // namespace c10k::serve
