#include "serve/file_open.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace c10k::serve {

FileStamp stamp_of(const struct stat& info) {
    FileStamp stamp;
    stamp.mtime_seconds = info.st_mtim.tv_sec;
    stamp.mtime_nanoseconds = info.st_mtim.tv_nsec;
    stamp.size = static_cast<std::uint64_t>(info.st_size);
    stamp.inode = static_cast<std::uint64_t>(info.st_ino);
    stamp.device = static_cast<std::uint64_t>(info.st_dev);
    return stamp;
}

core::Result<core::unique_fd> open_beneath(int root_fd, const std::string& relative,
                                           bool follow_symlinks, int flags) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    // RESOLVE_BENEATH rejects "..", absolute paths and absolute symlinks that leave root_fd, and
    // checks again after every symlink; NO_SYMLINKS refuses any symlink in any component.
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    if (!follow_symlinks) how.resolve |= RESOLVE_NO_SYMLINKS;
    while (true) {
        long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
        if (fd >= 0) return core::unique_fd(static_cast<int>(fd));
        // EAGAIN only comes with RESOLVE_CACHED, which is not used; EINTR is worth a retry.
        if (errno != EINTR) return core::last_errno();
    }
}

int status_for_open_error(int error) {
    switch (error) {
        case ENOENT:
        case ENOTDIR:
        case EXDEV:
        case ELOOP:
        case ENXIO:  // a socket, or a device without a driver
        case ENAMETOOLONG:
        case ENODEV:
        case EISDIR:
            return 404;
        case EACCES:
        case EPERM:
            return 403;
        case EMFILE:
        case ENFILE:
        case ENOMEM:
            return 503;
        default:
            return 500;
    }
}

core::Result<std::string> read_whole_file(int fd, std::uint64_t size) {
    std::string bytes(size, '\0');
    std::uint64_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, bytes.data() + done, size - done, static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return core::last_errno();
        }
        if (n == 0) break;
        done += static_cast<std::uint64_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

}  // namespace c10k::serve
