#pragma once
// Content-Type by file extension, as web servers have always done it (nginx's mime.types).

#include <string_view>

namespace c10k::serve {

/// The Content-Type for a file name or path, chosen by the extension of its last segment
/// (case-insensitive). Text types carry "; charset=utf-8" so browsers do not guess. A name with
/// no extension, an unknown extension, or a leading-dot name (".bashrc") gets
/// "application/octet-stream", which makes browsers download rather than render it.
std::string_view mime_type(std::string_view path);

}  // namespace c10k::serve
