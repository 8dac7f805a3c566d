#include "admin/assets.hpp"

#include <array>

namespace c10k::admin {

// Defined by the .cpp files that cmake/embed.cmake generates from the source files named in
// src/admin/CMakeLists.txt.
namespace embedded {
extern const std::string_view status_page_html;
extern const std::string_view uplot_js;
extern const std::string_view uplot_css;
}  // namespace embedded

namespace {

// Filled on first use rather than at static initialisation: the views live in other
// translation units, whose initialisation order relative to this one is unspecified.
const std::array<Asset, 2>& table() {
    static const std::array<Asset, 2> files = {{
        {"/assets/uPlot.iife.min.js", "text/javascript; charset=utf-8", embedded::uplot_js},
        {"/assets/uPlot.min.css", "text/css; charset=utf-8", embedded::uplot_css},
    }};
    return files;
}

}  // namespace

std::span<const Asset> assets() {
    return table();
}

const Asset* find_asset(std::string_view path) {
    for (const Asset& asset : table()) {
        if (asset.path == path) return &asset;
    }
    return nullptr;
}

std::string_view status_page_html() {
    return embedded::status_page_html;
}

}  // namespace c10k::admin
