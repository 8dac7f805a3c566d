#pragma once
// The static-file handler: GET and HEAD of files beneath one directory, with the behaviour users
// of nginx and h2o expect (index.html, 301 to the slash form of a directory, ETag and
// Last-Modified with conditional requests, single byte ranges, MIME types, no listings).
//
// Safety does not rest on string checks alone: paths are decoded and normalised once, and then
// every open goes through openat2(RESOLVE_BENEATH) from a descriptor of the root, so the kernel
// refuses anything ("..", symlinks, races with renames) that would leave it.

#include <cstdint>
#include <string>

#include "core/unique_fd.hpp"
#include "http/handler.hpp"
#include "serve/file_cache.hpp"

namespace c10k::serve {

struct StaticOptions {
    /// The directory served.
    std::string root;
    /// When false, a symlink anywhere in the path is refused (404). When true, symlinks are
    /// followed but must still resolve beneath the root (and absolute symlinks are refused).
    bool follow_symlinks = false;
    /// When false, any path segment starting with '.' (".git", ".env") gives 404.
    bool serve_dotfiles = false;
    /// False (--no-cache): no file is held in memory; every response is read from its file
    /// (sendfile, or read and write), for the caching experiment.
    bool cache = true;
    /// Files up to this size are held in memory.
    std::uint64_t cache_max_file_bytes = 64 * 1024;
    /// Memory for cached files, per handler (one handler per event loop).
    std::uint64_t cache_max_total_bytes = 64ull << 20;
    /// A cached entry is re-checked against the file system at most this often, so a changed
    /// file is noticed within about this long. 0 re-checks on every request.
    std::int64_t cache_validate_ms = 1000;
    /// An O_PATH descriptor of `root` that the caller opened and keeps open for as long as the
    /// handler lives; -1 (the default) makes the handler open its own. Engines that build a
    /// handler per connection (thread per client) share one, so that a connection costs one
    /// descriptor, not two.
    int shared_root_fd = -1;
};

/// One per event loop: it keeps a per-loop cache and takes no locks.
class StaticFiles : public http::Handler {
public:
    /// Opens the root. Throws std::runtime_error, with a sentence naming the path and the
    /// reason, when the root is missing, not a directory, not readable, or when the kernel lacks
    /// openat2 (Linux before 5.6).
    explicit StaticFiles(StaticOptions options);

    void handle(const http::Request& request, http::Response& response) override;
    /// Every answer is immediate and uses only this instance (its cache, the shared root's
    /// descriptor): the staged engine may run it on a handler-stage thread.
    bool answers_off_loop(const http::Request&) const override { return true; }

    const StaticOptions& options() const { return options_; }
    /// The O_PATH descriptor of the root this handler resolves paths beneath.
    int root_fd() const { return root_fd_; }
    const FileCache::Stats& cache_stats() const { return cache_.stats(); }

private:
    /// Opens and answers a path the cache did not have.
    void serve_from_disk(const http::Request& request, http::Response& response,
                         const std::string& normalized, std::int64_t now_ms);
    /// Answers with an open regular file, caching it when it is small enough.
    void serve_regular_file(const http::Request& request, http::Response& response,
                            const std::string& normalized, std::string relative, core::unique_fd fd,
                            const FileStamp& stamp, std::int64_t now_ms);

    StaticOptions options_;
    /// O_PATH|O_DIRECTORY descriptor of the root; every open is relative to it.
    core::unique_fd owned_root_fd_;  ///< when the handler opened the root itself
    int root_fd_;
    FileCache cache_;
};

}  // namespace c10k::serve
