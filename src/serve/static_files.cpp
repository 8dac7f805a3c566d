#include "serve/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/clock.hpp"
#include "serve/error_page.hpp"
#include "serve/file_open.hpp"
#include "serve/file_response.hpp"
#include "serve/path.hpp"

namespace c10k::serve {

namespace {

// O_NONBLOCK so that opening a fifo cannot stall the loop (it is refused after fstat anyway);
// O_NOCTTY so that a terminal device can never become our controlling terminal.
constexpr int kOpenFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY;

[[noreturn]] void fail(const std::string& root, const std::string& what, int error) {
    throw std::runtime_error("static root '" + root + "' " + what + ": " + std::strerror(error));
}

core::unique_fd open_root(const std::string& root) {
    if (root.empty()) throw std::runtime_error("static root is empty: name a directory to serve");
    int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int error = errno;
        if (error == ENOTDIR) fail(root, "is not a directory", error);
        fail(root, "cannot be opened", error);
    }
    core::unique_fd owned(fd);
    // O_PATH checks no permission, so ask explicitly whether we may list and enter it.
    if (::faccessat(AT_FDCWD, root.c_str(), R_OK | X_OK, AT_EACCESS) != 0) {
        fail(root, "is not readable", errno);
    }
    return owned;
}

FileCache::Limits cache_limits(const StaticOptions& options) {
    return {options.cache_max_file_bytes, options.cache_max_total_bytes, options.cache_validate_ms};
}

}  // namespace

StaticFiles::StaticFiles(StaticOptions options)
    : options_(std::move(options)),
      owned_root_fd_(options_.shared_root_fd >= 0 ? core::unique_fd{} : open_root(options_.root)),
      root_fd_(options_.shared_root_fd >= 0 ? options_.shared_root_fd : owned_root_fd_.get()),
      cache_(root_fd_, options_.follow_symlinks, cache_limits(options_)) {
    // Probe once so that a kernel without openat2 fails at start-up, not on every request.
    // A handler that borrows the root was preceded by the one that opened it, which probed.
    if (options_.shared_root_fd < 0) {
        core::Result<core::unique_fd> probe =
            open_beneath(root_fd_, ".", options_.follow_symlinks, O_PATH);
        if (!probe) fail(options_.root, "cannot be opened with openat2", probe.error());
    }
}

void StaticFiles::handle(const http::Request& request, http::Response& response) {
    if (request.method != http::Method::get && request.method != http::Method::head) {
        set_error_page(response, 405);
        response.add_header("Allow", "GET, HEAD");
        return;
    }
    std::int64_t now_ms = core::monotonic_ms();
    // Fast path: a target with no escapes, dot segments or doubled slashes is already in
    // normal form (and not hidden), so a cached file is found without building a string.
    std::string_view raw = request.path();
    if (is_plain_path(raw)) {
        if (const FileCache::Entry* entry = options_.cache ? cache_.find(raw, now_ms) : nullptr) {
            respond_with_file(request, response, entry->headers, FileBody{entry->contents, {}});
            return;
        }
        serve_from_disk(request, response, std::string(raw), now_ms);
        return;
    }
    std::optional<std::string> normalized = normalize_path(raw);
    if (!normalized) {
        set_error_page(response, 400);
        return;
    }
    // Hidden names are refused before the cache, so a change of policy needs no cache flush.
    if (!options_.serve_dotfiles && has_dot_segment(*normalized)) {
        set_error_page(response, 404);
        return;
    }
    if (const FileCache::Entry* entry =
            options_.cache ? cache_.find(*normalized, now_ms) : nullptr) {
        respond_with_file(request, response, entry->headers, FileBody{entry->contents, {}});
        return;
    }
    serve_from_disk(request, response, *normalized, now_ms);
}

void StaticFiles::serve_from_disk(const http::Request& request, http::Response& response,
                                  const std::string& normalized, std::int64_t now_ms) {
    std::string relative = relative_path(normalized);
    core::Result<core::unique_fd> fd =
        open_beneath(root_fd_, relative, options_.follow_symlinks, kOpenFlags);
    if (!fd) {
        set_error_page(response, status_for_open_error(fd.error()));
        return;
    }
    struct stat info {};
    if (::fstat(fd->get(), &info) != 0) {
        set_error_page(response, 500);
        return;
    }

    if (S_ISDIR(info.st_mode)) {
        if (normalized.back() != '/') {
            set_directory_redirect(response, normalized, request.query());
            return;
        }
        // Opened from the root again (not from the directory's descriptor) so that a symlinked
        // index.html is judged against the root, like every other path.
        relative = relative == "." ? std::string("index.html") : relative + "/index.html";
        fd = open_beneath(root_fd_, relative, options_.follow_symlinks, kOpenFlags);
        if (!fd) {
            set_error_page(response, status_for_open_error(fd.error()));
            return;
        }
        if (::fstat(fd->get(), &info) != 0) {
            set_error_page(response, 500);
            return;
        }
    } else if (normalized.back() == '/') {
        // "/file.txt/" names a directory that is not there, as on any POSIX file system.
        set_error_page(response, 404);
        return;
    }

    // Sockets, fifos and devices are not content.
    if (!S_ISREG(info.st_mode)) {
        set_error_page(response, 404);
        return;
    }
    serve_regular_file(request, response, normalized, std::move(relative), std::move(*fd),
                       stamp_of(info), now_ms);
}

void StaticFiles::serve_regular_file(const http::Request& request, http::Response& response,
                                     const std::string& normalized, std::string relative,
                                     core::unique_fd fd, const FileStamp& stamp,
                                     std::int64_t now_ms) {
    if (!options_.cache || !cache_.admits(stamp.size)) {
        // Large files (every file with --no-cache) are never read into memory: the engine
        // sends them with sendfile, or reads and writes them (--no-sendfile).
        // O_NONBLOCK was only for the open (a fifo must not stall the loop); left on a regular
        // file it makes sendfile/splice use non-blocking page-cache reads, which return short
        // whenever a page is not cached yet. The engine would read that short count as a full
        // socket and wait for a writable event that never comes.
        int flags = ::fcntl(fd.get(), F_GETFL);
        if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
            set_error_page(response, 500);
            return;
        }
        FileHeaders headers = describe_file(relative, stamp);
        auto file = core::make_ref<http::OpenFile>(std::move(fd), stamp.size);
        respond_with_file(request, response, headers, FileBody{{}, std::move(file)});
        return;
    }

    core::Result<std::string> bytes = read_whole_file(fd.get(), stamp.size);
    if (!bytes) {
        set_error_page(response, status_for_open_error(bytes.error()));
        return;
    }
    if (bytes->size() != stamp.size) {
        // The file changed while we read it. Serve what we read, described by its real length,
        // but do not cache a version whose bytes and stamp disagree.
        FileStamp actual = stamp;
        actual.size = bytes->size();
        FileHeaders headers = describe_file(relative, actual);
        auto blob = core::make_ref<http::Blob>(std::move(bytes).value());
        respond_with_file(request, response, headers, FileBody{std::move(blob), {}});
        return;
    }

    FileHeaders headers = describe_file(relative, stamp);
    auto blob = core::make_ref<http::Blob>(std::move(bytes).value());
    // The cache keeps its own reference; this response holds another, so an eviction while the
    // bytes are still being sent frees nothing too early.
    cache_.insert(normalized, std::move(relative), headers, blob, stamp, now_ms);
    respond_with_file(request, response, headers, FileBody{std::move(blob), {}});
}

}  // namespace c10k::serve
