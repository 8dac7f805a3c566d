// The path normaliser and the resolver beneath the root. Whatever the request-target, a path the
// normaliser accepts stays beneath the root, and whatever string reaches openat2 (normalised or
// raw, with symlinks followed or not), what opens lies beneath the root.
//
// Checks on every input:
//  - normalize_path agrees with a plain reference model (decode once, then walk a stack of
//    segments), and refuses exactly the paths that model says climb above the root;
//  - its result is canonical: starts with '/', has no empty, "." or ".." segment, no NUL, and
//    survives percent_encode_path + normalize_path unchanged (what a Location header carries
//    means the same path again);
//  - relative_path never starts with '/' and has no ".." segment;
//  - open_beneath on the normalised path and on the raw bytes only ever opens a file or
//    directory beneath the root (judged by the kernel's name for the descriptor), never the
//    "secret" file beside the root that the tree's symlinks point at.

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "fuzz_support.hpp"
#include "serve/file_open.hpp"
#include "serve/path.hpp"

namespace {

using namespace c10k;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// The reference: what RFC 3986 section 5.2.4 asks of a path decoded once, with climbing above
/// the root refused instead of clamped.
std::optional<std::string> reference_normalize(std::string_view encoded) {
    if (encoded.empty() || encoded[0] != '/') return std::nullopt;
    std::string decoded;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        char c = encoded[i];
        if (c == '%') {
            if (i + 2 >= encoded.size()) return std::nullopt;
            int high = hex_digit(encoded[i + 1]);
            int low = hex_digit(encoded[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            c = static_cast<char>(high * 16 + low);
            i += 2;
        }
        if (c == '\0') return std::nullopt;
        decoded.push_back(c);
    }
    std::vector<std::string> stack;
    bool directory = false;
    std::size_t start = 1;
    for (;;) {
        std::size_t end = decoded.find('/', start);
        std::string segment = decoded.substr(start, end == std::string::npos ? end : end - start);
        directory = true;
        if (segment == "..") {
            if (stack.empty()) return std::nullopt;
            stack.pop_back();
        } else if (!segment.empty() && segment != ".") {
            stack.push_back(segment);
            directory = false;
        }
        if (end == std::string::npos) break;
        start = end + 1;
    }
    std::string out;
    for (const auto& segment : stack) out += "/" + segment;
    if (out.empty() || directory) out += "/";
    return out;
}

bool has_segment(std::string_view path, std::string_view wanted) {
    std::size_t start = 0;
    for (;;) {
        std::size_t end = path.find('/', start);
        if (path.substr(start, end == std::string_view::npos ? end : end - start) == wanted) {
            return true;
        }
        if (end == std::string_view::npos) return false;
        start = end + 1;
    }
}

void check_canonical(const std::string& path) {
    C10K_FUZZ_CHECK(!path.empty() && path[0] == '/', path);
    C10K_FUZZ_CHECK(path.find('\0') == std::string::npos, path);
    // Inner segments are never empty, "." or ".."; only the last may be empty (trailing slash).
    std::string_view inner(path);
    inner.remove_prefix(1);
    if (!inner.empty() && inner.back() == '/') inner.remove_suffix(1);
    if (!inner.empty()) {
        C10K_FUZZ_CHECK(!has_segment(inner, "") && !has_segment(inner, ".") &&
                            !has_segment(inner, ".."),
                        path);
    }
}

void check_opened_beneath(int root_fd, const std::string& relative, bool follow) {
    auto opened = serve::open_beneath(root_fd, relative, follow, O_RDONLY | O_NONBLOCK);
    if (!opened) return;
    C10K_FUZZ_CHECK(fuzz::descriptor_beneath(opened->get(), fuzz::document_root()),
                    "opened outside the root: " + relative);
}

int root_descriptor() {
    static int fd = ::open(fuzz::document_root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fuzz::fail("cannot open the fuzz document root");
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    root_descriptor();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz::SplitPlan plan(data, size);
    bool follow = plan.below(2) == 0;

    std::optional<std::string> normalized = serve::normalize_path(input);
    std::optional<std::string> expected = reference_normalize(input);
    C10K_FUZZ_CHECK(normalized == expected,
                    std::string(input) + " -> " + normalized.value_or("(refused)") +
                        ", reference: " + expected.value_or("(refused)"));

    if (normalized) {
        check_canonical(*normalized);
        std::string encoded = serve::percent_encode_path(*normalized);
        C10K_FUZZ_CHECK(serve::normalize_path(encoded) == normalized, encoded);

        std::string relative = serve::relative_path(*normalized);
        C10K_FUZZ_CHECK(!relative.empty() && relative[0] != '/', relative);
        C10K_FUZZ_CHECK(!has_segment(relative, ".."), relative);
        bool dot = relative[0] == '.' ? relative != "." : relative.find("/.") != std::string::npos;
        C10K_FUZZ_CHECK(serve::has_dot_segment(*normalized) == dot, *normalized);
        check_opened_beneath(root_descriptor(), relative, follow);
    }
    // The kernel's check must hold on its own, for strings the normaliser would have refused.
    std::string raw(input.substr(0, input.find('\0')));
    if (!raw.empty()) check_opened_beneath(root_descriptor(), raw, follow);
    return 0;
}
