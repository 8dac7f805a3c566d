#pragma once
// Cold-cache measurements: evicting files' pages from the page cache, and counting how many of
// them are resident, so that a benchmark of a static-file server can start with its files on
// disk rather than in memory (`c10k evict`, used by bench scripts before a cold run).
//
// Eviction is posix_fadvise(POSIX_FADV_DONTNEED) on each regular file, the request an
// unprivileged user may make for files it can read (writing 1 to /proc/sys/vm/drop_caches needs
// root and drops every file on the machine). The kernel drops only clean, unmapped pages: pages
// still dirty or mapped by a running process stay, which the "after" count shows. On tmpfs and
// ramfs the page cache is the file's only copy, so nothing can be evicted; that is reported, not
// treated as a failure.

#include <cstdint>
#include <functional>
#include <string>

namespace c10k::bench {

/// What evicting one regular file did.
struct EvictedFile {
    std::string path;
    std::uint64_t pages = 0;            ///< the file's size in pages
    std::uint64_t resident_before = 0;  ///< pages in the page cache before posix_fadvise
    std::uint64_t resident_after = 0;   ///< pages in the page cache after it
    bool memory_backed = false;         ///< on tmpfs or ramfs: nothing to evict
    std::string error;                  ///< why the file could not be handled; empty when it was
};

/// The pages of the open regular file `fd` (of `size` bytes) that are in the page cache, counted
/// with mincore on a mapping that is never touched (so counting reads nothing in). Throws
/// std::system_error when the file cannot be mapped.
std::uint64_t resident_pages(int fd, std::uint64_t size);

/// Evicts `path` (a regular file) and counts its resident pages before and after. Problems are
/// returned in `error`, not thrown, so that one unreadable file does not stop a directory walk.
EvictedFile evict_file(const std::string& path);

/// Evicts `path`: a regular file, or every regular file under a directory (recursively, without
/// following symbolic links to directories). Calls `report` once per file, in walk order.
/// Returns false, after calling `report` with the error, when `path` does not exist or is neither a
/// regular file nor a directory.
bool evict_path(const std::string& path, const std::function<void(const EvictedFile&)>& report);

}  // namespace c10k::bench
