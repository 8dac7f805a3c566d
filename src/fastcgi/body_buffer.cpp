#include "fastcgi/body_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace c10k::fastcgi {

int open_anonymous_file(const std::string& directory) {
    int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    // EOPNOTSUPP: a file system without O_TMPFILE (some network and FUSE ones); EISDIR: a
    // kernel older than 3.11. Anything else (a missing or unwritable directory) is the answer.
    if (errno != EOPNOTSUPP && errno != EISDIR) return -errno;
    std::string pattern = directory + "/c10k-body-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return -errno;
    ::unlink(name.data());  // unnamed from here on: it goes when the descriptor closes
    return fd;
}

std::string default_temp_directory() {
    const char* tmpdir = std::getenv("TMPDIR");
    return tmpdir != nullptr && tmpdir[0] == '/' ? tmpdir : "/tmp";
}

BodyBuffer::BodyBuffer(std::string directory, std::size_t memory_bytes)
    : directory_(std::move(directory)), memory_bytes_(memory_bytes) {}

int BodyBuffer::spill() {
    int fd = open_anonymous_file(directory_);
    if (fd < 0) return -fd;
    file_.reset(fd);
    // What was held in memory goes first, so that the file is the whole body.
    int error = 0;
    for (std::size_t done = 0; done < memory_.size();) {
        ssize_t n = ::write(fd, memory_.data() + done, memory_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = errno;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    memory_.clear();
    memory_.shrink_to_fit();
    return error;
}

int BodyBuffer::append(const char* data, std::size_t size) {
    if (!file_ && memory_.size() + size <= memory_bytes_) {
        memory_.append(data, size);
        size_ += size;
        return 0;
    }
    if (!file_) {
        if (int error = spill(); error != 0) return error;
    }
    for (std::size_t done = 0; done < size;) {
        ssize_t n = ::write(file_.get(), data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;  // ENOSPC, EDQUOT, EFBIG, EIO
        done += static_cast<std::size_t>(n);
    }
    size_ += size;
    return 0;
}

long long BodyBuffer::read(std::uint64_t offset, char* into, std::size_t size) const {
    if (offset >= size_) return 0;
    if (size > size_ - offset) size = static_cast<std::size_t>(size_ - offset);
    if (!file_) {
        memory_.copy(into, size, static_cast<std::size_t>(offset));
        return static_cast<long long>(size);
    }
    for (;;) {
        ssize_t n = ::pread(file_.get(), into, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return -EIO;  // the file is shorter than what was written to it
        return n;
    }
}

}  // namespace c10k::fastcgi
