#include "fuzz_support.hpp"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace c10k::fuzz {

namespace {

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t size) {
    std::uint64_t hash = 1469598103934665603ull;
    for (std::size_t i = 0; i < size; ++i) {
        hash ^= data[i];
        hash *= 1099511628211ull;
    }
    return hash;
}

void write_file(const std::filesystem::path& path, const std::string& contents) {
    std::ofstream out(path, std::ios::binary);
    out << contents;
}

struct Tree {
    std::string base;  // the temporary directory: base/root is served, base/secret is not
    std::string root;

    Tree() {
        char pattern[] = "/tmp/c10k-fuzz-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) fail("mkdtemp failed");
        namespace fs = std::filesystem;
        // Canonical, so that it compares equal to the kernel's names in /proc/self/fd.
        base = fs::canonical(pattern).string();
        root = base + "/root";
        fs::create_directories(root + "/dir/sub");
        write_file(base + "/secret", "outside the root\n");
        write_file(root + "/index.html", "<html>home</html>\n");
        write_file(root + "/a.txt", "hello, world\n");
        write_file(root + "/empty", "");
        // Larger than the handler's cache limit in the fuzz targets, so it goes out as a file
        // range (sendfile) rather than as cached bytes.
        write_file(root + "/big.bin", std::string(70 * 1024, 'x'));
        write_file(root + "/dir/index.html", "<p>dir</p>\n");
        write_file(root + "/dir/sub/f.css", "body{}\n");
        write_file(root + "/.env", "SECRET=1\n");
        fs::create_symlink("a.txt", root + "/link-inside");
        fs::create_symlink("../secret", root + "/link-outside");
        fs::create_symlink(base + "/secret", root + "/link-absolute");
        fs::create_symlink("loop2", root + "/loop1");
        fs::create_symlink("loop1", root + "/loop2");
        fs::create_symlink("../..", root + "/dir/up");
    }

    // A function-local static: destroyed at exit, after the last input.
    ~Tree() {
        std::error_code ignored;
        std::filesystem::remove_all(base, ignored);
    }

    static Tree& instance() {
        static Tree tree;
        return tree;
    }
};

}  // namespace

SplitPlan::SplitPlan(const std::uint8_t* data, std::size_t size)
    : state_(fnv1a(data, size) | 1) {}

std::uint64_t SplitPlan::below(std::uint64_t bound) {
    // xorshift64*: tiny, and good enough to pick split points.
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    std::uint64_t value = state_ * 2685821657736338717ull;
    return bound == 0 ? 0 : value % bound;
}

std::size_t SplitPlan::next(std::size_t remaining) {
    std::uint64_t roll = below(8);
    std::size_t piece = roll < 6 ? 1 + below(16) : 1 + below(remaining);
    return piece < remaining ? piece : remaining;
}

const std::string& document_root() { return Tree::instance().root; }

const std::string& outside_directory() { return Tree::instance().base; }

bool descriptor_beneath(int fd, const std::string& root) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char target[PATH_MAX + 1];
    ssize_t n = ::readlink(link, target, PATH_MAX);
    if (n < 0) fail("readlink of an open descriptor failed");
    std::string path(target, static_cast<std::size_t>(n));
    return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                            path[root.size()] == '/');
}

void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "c10k fuzz check failed: %s\n%s\n", what, detail.c_str());
    std::abort();
}

}  // namespace c10k::fuzz
