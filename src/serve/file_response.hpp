#pragma once
// Turning one version of a file into a response: validators and prebuilt header lines, then
// the choice between 304, 206, 416 and 200 that conditionals and Range make.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "core/ref_ptr.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "serve/file_open.hpp"

namespace c10k::serve {

/// Everything about a file version that goes into headers, formatted once (when the file is
/// opened or cached) so that serving it again only appends strings.
struct FileHeaders {
    /// "Content-Type", "ETag", "Last-Modified", "Accept-Ranges" lines, each ending in CRLF.
    std::string header_lines;
    /// "ETag" and "Last-Modified" lines, the headers a 304 repeats.
    std::string validator_lines;
    std::string etag;
    std::time_t last_modified = 0;
    std::uint64_t size = 0;
};

/// Builds the headers for a file whose type is chosen by `name` (its path) and whose version is
/// `stamp`.
FileHeaders describe_file(std::string_view name, const FileStamp& stamp);

/// Where the bytes come from: exactly one of the two is set.
struct FileBody {
    core::RefPtr<http::Blob> blob;      ///< cached contents (small files)
    core::RefPtr<http::OpenFile> file;  ///< an open descriptor for sendfile (large files)
};

/// Answers a GET or HEAD for a regular file: 304 when the conditionals say so, else 206 or 416
/// for a usable Range (subject to If-Range), else 200 with the whole body. For HEAD the same body
/// is set; the Session sends only its length.
void respond_with_file(const http::Request& request, http::Response& response,
                       const FileHeaders& headers, const FileBody& body);

}  // namespace c10k::serve
