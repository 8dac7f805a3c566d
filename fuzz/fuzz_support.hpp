#pragma once
// Helpers shared by the fuzz targets: a split plan derived from the input (so that one input
// always replays the same way), a small document tree with traps in it, and a check that an
// open descriptor lies beneath a directory.

#include <cstddef>
#include <cstdint>
#include <string>

namespace c10k::fuzz {

/// Deterministic pseudo-random choices seeded by the bytes of the input: the same input always
/// splits the same way (crashes reproduce), and every mutation of it tries another split.
class SplitPlan {
public:
    SplitPlan(const std::uint8_t* data, std::size_t size);
    /// A piece size in [1, remaining], mostly small (1..16) so that every parser state boundary
    /// gets crossed, sometimes large. `remaining` must be > 0.
    std::size_t next(std::size_t remaining);
    /// A value in [0, bound).
    std::uint64_t below(std::uint64_t bound);

private:
    std::uint64_t state_;
};

/// A document root created once per process (removed at exit): regular files of several sizes
/// (cached and sendfile'd), a directory with an index, a dotfile, and symlinks that point inside
/// the root, outside it (relative and absolute), and in a loop. Returns the root's absolute path.
const std::string& document_root();

/// The directory holding document_root(), with a file "secret" beside the root that must never
/// be reachable through it.
const std::string& outside_directory();

/// True when `fd` (an open file or directory) resolves to `root` or a path beneath it, judged by
/// the kernel's own name for it in /proc/self/fd.
bool descriptor_beneath(int fd, const std::string& root);

/// Prints a message and aborts, so that libFuzzer records the input as a crash.
[[noreturn]] void fail(const char* what, const std::string& detail = {});

}  // namespace c10k::fuzz

/// Abort with a message (not assert: it must also hold in release builds).
#define C10K_FUZZ_CHECK(condition, detail)                            \
    do {                                                              \
        if (!(condition)) ::c10k::fuzz::fail(#condition, (detail));   \
    } while (false)
