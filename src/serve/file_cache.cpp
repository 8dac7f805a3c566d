#include "serve/file_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace c10k::serve {

namespace {
/// Bookkeeping charged per entry besides its bytes, so that many empty files still count
/// against the memory limit.
constexpr std::uint64_t kEntryOverhead = 256;
}  // namespace

FileCache::FileCache(int root_fd, bool follow_symlinks, Limits limits)
    : root_fd_(root_fd), follow_symlinks_(follow_symlinks), limits_(limits) {
    if (limits_.validate_ms < 0) limits_.validate_ms = 0;
}

bool FileCache::admits(std::uint64_t size) const {
    return size <= limits_.max_file_bytes && size + kEntryOverhead <= limits_.max_total_bytes;
}

const FileCache::Entry* FileCache::find(std::string_view key, std::int64_t now_ms) {
    auto position = entries_.find(key);
    if (position == entries_.end()) {
        ++stats_.misses;
        return nullptr;
    }
    Entry& entry = position->second;
    if (now_ms - entry.validated_ms >= limits_.validate_ms) {
        ++stats_.revalidations;
        if (!still_current(entry)) {
            ++stats_.invalidations;
            ++stats_.misses;
            erase(position);
            return nullptr;
        }
        entry.validated_ms = now_ms;
    }
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, entry.lru_position);
    return &entry;
}

bool FileCache::still_current(const Entry& entry) const {
    // O_PATH opens nothing for reading (no permission check on the file, no side effects on
    // fifos) but resolves the path under exactly the rules a real open would.
    core::Result<core::unique_fd> fd =
        open_beneath(root_fd_, entry.relative, follow_symlinks_, O_PATH);
    if (!fd) return false;
    struct stat info {};
    if (::fstat(fd->get(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
    return stamp_of(info) == entry.stamp;
}

bool FileCache::insert(const std::string& key, std::string relative, const FileHeaders& headers,
                       core::RefPtr<http::Blob> contents, const FileStamp& stamp,
                       std::int64_t now_ms) {
    auto existing = entries_.find(key);
    if (existing != entries_.end()) erase(existing);

    Entry fresh;
    fresh.contents = std::move(contents);
    fresh.headers = headers;
    fresh.stamp = stamp;
    fresh.relative = std::move(relative);
    fresh.validated_ms = now_ms;
    fresh.cost = cost_of(key, fresh);
    // Do not empty the whole cache for something that would not fit anyway.
    if (fresh.cost > limits_.max_total_bytes) return false;

    // Least recently used entries go first until the new one fits.
    while (!lru_.empty() && stats_.bytes + fresh.cost > limits_.max_total_bytes) {
        ++stats_.evictions;
        erase(entries_.find(*lru_.back()));
    }

    auto [position, inserted] = entries_.emplace(key, std::move(fresh));
    lru_.push_front(&position->first);
    position->second.lru_position = lru_.begin();
    stats_.bytes += position->second.cost;
    stats_.entries = entries_.size();
    return true;
}

void FileCache::erase(Map::iterator position) {
    stats_.bytes -= position->second.cost;
    lru_.erase(position->second.lru_position);
    entries_.erase(position);
    stats_.entries = entries_.size();
}

std::uint64_t FileCache::cost_of(const std::string& key, const Entry& entry) {
    return entry.contents->data.size() + entry.headers.header_lines.size() +
           entry.headers.validator_lines.size() + key.size() + entry.relative.size() +
           kEntryOverhead;
}

}  // namespace c10k::serve
