#pragma once
// A request body held whole before it goes to the application: a chunked body has no length,
// and PHP reads php://input and $_POST only up to CONTENT_LENGTH, so the length must be known
// before the request begins (nginx forces fastcgi_request_buffering on for chunked bodies for
// the same reason). The first bytes stay in memory; a body larger than that goes, all of it,
// to an anonymous temporary file (O_TMPFILE: it has no name, so nothing is left behind when
// the server dies), so a large upload costs disk rather than memory, as nginx's
// client_body_temp_path does.
//
// The file is written and read with plain write/pread on the loop's thread, as nginx does
// without aio: a temporary directory on tmpfs or a local disk answers from the page cache.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/unique_fd.hpp"

namespace c10k::fastcgi {

class BodyBuffer {
public:
    /// Bytes held in memory before the body spills to a file: a form post or a small JSON
    /// document never touches the disk (nginx's client_body_buffer_size is 8 or 16 KiB).
    static constexpr std::size_t kMemoryBytes = 64 * 1024;

    /// `directory`: where the file is made, when one is needed.
    explicit BodyBuffer(std::string directory, std::size_t memory_bytes = kMemoryBytes);

    /// Adds body bytes at the end. 0, or the errno of a failed open or write of the file.
    int append(const char* data, std::size_t size);
    /// Copies up to `size` bytes from `offset` into `into`. The count (0 at the end), or -errno.
    long long read(std::uint64_t offset, char* into, std::size_t size) const;

    std::uint64_t size() const { return size_; }
    bool spilled() const { return static_cast<bool>(file_); }
    const std::string& directory() const { return directory_; }

private:
    int spill();

    std::string directory_;
    std::size_t memory_bytes_;
    std::string memory_;  ///< the body while it fits; empty once spilled
    core::unique_fd file_;
    std::uint64_t size_ = 0;
};

/// An unnamed file open for reading and writing in `directory`: O_TMPFILE, or, where the file
/// system lacks it, a named file removed at once. The descriptor, or -errno.
int open_anonymous_file(const std::string& directory);

/// The directory temporary files go to when none is given: $TMPDIR, else /tmp.
std::string default_temp_directory();

}  // namespace c10k::fastcgi
