#pragma once
// The files the status page needs, compiled into the binary (cmake/embed.cmake): the page
// itself and the charting library it draws with (uPlot, third_party/uplot). Serving them from
// memory means /status works with no files installed and makes no request beyond the admin
// listener, which matters on the management networks that listener is meant for.

#include <span>
#include <string_view>

namespace c10k::admin {

/// One embedded file and how it is served.
struct Asset {
    std::string_view path;          ///< URL path on the admin listener ("/assets/...")
    std::string_view content_type;  ///< Content-Type header value
    std::string_view bytes;         ///< the file, in static storage
};

/// Every file served under /assets/, in a fixed order (an index into it names a file).
std::span<const Asset> assets();

/// The asset served at `path`, or null.
const Asset* find_asset(std::string_view path);

/// The status page's HTML (src/admin/status_page.html).
std::string_view status_page_html();

}  // namespace c10k::admin
