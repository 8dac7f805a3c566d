#pragma once
// Opening files beneath the document root, with the kernel (not string checks) enforcing that
// no path, ".." or symlink leads outside it: openat2(2) with RESOLVE_BENEATH, and
// RESOLVE_NO_SYMLINKS unless the operator allows symlinks.

#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace c10k::serve {

/// What identifies one version of a file: if any field changes, cached bytes are stale.
struct FileStamp {
    std::int64_t mtime_seconds = 0;
    std::int64_t mtime_nanoseconds = 0;
    std::uint64_t size = 0;
    std::uint64_t inode = 0;
    std::uint64_t device = 0;

    bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const struct stat& info);

/// openat2(root_fd, relative, flags | O_CLOEXEC, RESOLVE_BENEATH [| RESOLVE_NO_SYMLINKS]).
/// glibc has no wrapper, so this is a raw syscall. Failures carry errno: EXDEV for an escape,
/// ELOOP for a refused symlink, ENOENT/ENOTDIR/EACCES as usual.
core::Result<core::unique_fd> open_beneath(int root_fd, const std::string& relative,
                                           bool follow_symlinks, int flags);

/// The HTTP status for a failed open: 404 for anything that means "no such file here" (including
/// escapes and refused symlinks, so that their existence is not revealed), 403 for permission,
/// 503 when out of descriptors or memory (worth retrying), 500 otherwise.
int status_for_open_error(int error);

/// Reads exactly `size` bytes from the start of `fd` into a string. Returns fewer when the file
/// shrank meanwhile; the caller then knows the bytes and the stat disagree.
core::Result<std::string> read_whole_file(int fd, std::uint64_t size);

}  // namespace c10k::serve
