#include "bench/page_cache.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "core/unique_fd.hpp"

namespace c10k::bench {

namespace {

std::uint64_t page_size() {
    static const std::uint64_t size = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

/// Mapped a window at a time, so that counting a file of many gigabytes needs a bounded
/// mincore vector (one byte per page: 64 KiB for each 256 MiB window).
constexpr std::uint64_t kWindowBytes = 256ull << 20;

bool memory_backed(int fd) {
    struct statfs fs {};
    if (::fstatfs(fd, &fs) != 0) return false;
    return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}

}  // namespace

std::uint64_t resident_pages(int fd, std::uint64_t size) {
    std::uint64_t resident = 0;
    std::vector<unsigned char> in_core;
    for (std::uint64_t offset = 0; offset < size; offset += kWindowBytes) {
        std::size_t length = static_cast<std::size_t>(std::min(kWindowBytes, size - offset));
        void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
        if (map == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        in_core.assign((length + page_size() - 1) / page_size(), 0);
        int status = ::mincore(map, length, in_core.data());
        int saved = errno;
        ::munmap(map, length);
        if (status != 0) throw std::system_error(saved, std::generic_category(), "mincore");
        // Only the lowest bit means resident; the others are reserved.
        resident += static_cast<std::uint64_t>(
            std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return c & 1; }));
    }
    return resident;
}

EvictedFile evict_file(const std::string& path) {
    EvictedFile file;
    file.path = path;
    // O_NONBLOCK: a FIFO found in a directory walk must not block the open; it is refused below.
    core::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        file.error = std::strerror(errno);
        return file;
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        file.error = std::strerror(errno);
        return file;
    }
    if (!S_ISREG(info.st_mode)) {
        file.error = "not a regular file or a directory";
        return file;
    }
    auto size = static_cast<std::uint64_t>(info.st_size);
    file.pages = (size + page_size() - 1) / page_size();
    file.memory_backed = memory_backed(fd.get());
    try {
        // The mapping used for counting is gone before posix_fadvise: the kernel does not drop
        // pages that are mapped.
        file.resident_before = resident_pages(fd.get(), size);
        if (!file.memory_backed && size > 0) {
            int status = ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
            if (status != 0) {
                file.error = std::string("posix_fadvise: ") + std::strerror(status);
            }
        }
        file.resident_after = resident_pages(fd.get(), size);
    } catch (const std::system_error& e) {
        file.error = e.what();
    }
    return file;
}

bool evict_path(const std::string& path, const std::function<void(const EvictedFile&)>& report) {
    namespace fs = std::filesystem;
    std::error_code error;
    fs::file_status status = fs::status(path, error);
    if (error || !fs::exists(status)) {
        EvictedFile missing;
        missing.path = path;
        missing.error = error ? error.message() : "no such file or directory";
        report(missing);
        return false;
    }
    if (fs::is_regular_file(status)) {
        report(evict_file(path));
        return true;
    }
    if (!fs::is_directory(status)) {
        EvictedFile other;
        other.path = path;
        other.error = "not a regular file or a directory";
        report(other);
        return false;
    }
    // A subdirectory this user may not read is skipped, as find(1) would, rather than ending
    // the walk: its files cannot have been read by this user's benchmark either.
    fs::recursive_directory_iterator walk(path, fs::directory_options::skip_permission_denied,
                                          error);
    if (error) {
        EvictedFile unreadable;
        unreadable.path = path;
        unreadable.error = error.message();
        report(unreadable);
        return false;
    }
    for (; walk != fs::recursive_directory_iterator(); walk.increment(error)) {
        if (error) break;
        std::error_code type_error;
        if (walk->is_regular_file(type_error)) report(evict_file(walk->path().string()));
    }
    if (error) {
        EvictedFile broken;
        broken.path = path;
        broken.error = error.message();
        report(broken);
        return false;
    }
    return true;
}

}  // namespace c10k::bench
