#pragma once
// Per-loop cache of small files: contents and prebuilt headers, keyed by normalised request
// path. One cache per event loop, so no locks. A fresh hit costs no syscall; an entry older
// than the validation interval is re-checked with openat2(O_PATH) + fstat (the same resolution
// rules as a real open, so a file swapped for a symlink is noticed), and dropped if the file's
// stamp (mtime, size, inode, device) changed.

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/ref_ptr.hpp"
#include "http/response.hpp"
#include "serve/file_open.hpp"
#include "serve/file_response.hpp"

namespace c10k::serve {

class FileCache {
public:
    struct Limits {
        std::uint64_t max_file_bytes = 64 * 1024;
        std::uint64_t max_total_bytes = 64ull << 20;
        /// 0 re-checks on every hit (useful in tests); negative is treated as 0.
        std::int64_t validate_ms = 1000;
    };

    /// Counters for tests and status pages.
    struct Stats {
        std::uint64_t hits = 0;           ///< served from memory
        std::uint64_t misses = 0;         ///< not cached (or dropped as stale)
        std::uint64_t revalidations = 0;  ///< entries re-checked against the file system
        std::uint64_t invalidations = 0;  ///< entries dropped because the file changed or went
        std::uint64_t evictions = 0;      ///< entries dropped to stay under max_total_bytes
        std::uint64_t entries = 0;
        std::uint64_t bytes = 0;  ///< accounted size of all entries
    };

    struct Entry {
        core::RefPtr<http::Blob> contents;
        FileHeaders headers;
        FileStamp stamp;
        /// The file actually opened, relative to the root ("docs/index.html" for "/docs/").
        std::string relative;
        std::int64_t validated_ms = 0;
        std::uint64_t cost = 0;
        std::list<const std::string*>::iterator lru_position;
    };

    /// `root_fd` is borrowed: the handler owns it and outlives the cache.
    FileCache(int root_fd, bool follow_symlinks, Limits limits);

    /// The entry for `key`, or nullptr. A stale entry is revalidated first and dropped if the
    /// file changed; then nullptr sends the caller to the file system.
    const Entry* find(std::string_view key, std::int64_t now_ms);

    /// Whether a file of `size` bytes would be kept in memory.
    bool admits(std::uint64_t size) const;

    /// Stores a file version, evicting the least recently used entries to make room. Returns
    /// false (and stores nothing) when the entry alone would exceed max_total_bytes.
    bool insert(const std::string& key, std::string relative, const FileHeaders& headers,
                core::RefPtr<http::Blob> contents, const FileStamp& stamp, std::int64_t now_ms);

    const Stats& stats() const { return stats_; }

private:
    /// Transparent hashing, so that a lookup by string_view builds no std::string.
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const {
            return std::hash<std::string_view>{}(key);
        }
    };
    using Map = std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>>;

    bool still_current(const Entry& entry) const;
    void erase(Map::iterator position);
    static std::uint64_t cost_of(const std::string& key, const Entry& entry);

    int root_fd_;
    bool follow_symlinks_;
    Limits limits_;
    Map entries_;
    /// Most recently used first. Points at the map's keys, which stay put (node-based map).
    std::list<const std::string*> lru_;
    Stats stats_;
};

}  // namespace c10k::serve
