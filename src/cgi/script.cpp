#include "cgi/script.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "serve/file_open.hpp"
#include "serve/path.hpp"

namespace c10k::cgi {

namespace {

/// Fills `out` for the regular file `file` at `relative`, followed by `path_info`.
int found(int root_fd, std::string_view prefix, std::string relative, std::string_view path_info,
          core::unique_fd file, const struct stat& info, ScriptUse use, Script& out) {
    if (use == ScriptUse::execute) {
        if ((info.st_mode & 0111) == 0) return 403;
        std::string parent = relative.find('/') == std::string::npos
                                 ? std::string(".")
                                 : relative.substr(0, relative.rfind('/'));
        auto directory = serve::open_beneath(root_fd, parent, false, O_PATH | O_DIRECTORY);
        if (!directory) return 404;
        out.directory = std::move(*directory);
        out.file = std::move(file);
    }
    out.script_name = std::string(prefix) + relative;
    out.path_info = std::string(path_info);
    out.relative = std::move(relative);
    return 0;
}

}  // namespace

int resolve_script(int root_fd, std::string_view prefix, std::string_view normalized,
                   Script& out, ScriptUse use) {
    if (!normalized.starts_with(prefix) || serve::has_dot_segment(normalized)) {
        return 404;
    }
    std::string_view rest = normalized.substr(prefix.size());
    // Most requests name the script itself (no PATH_INFO): one open of the whole path, and the
    // walk below only when that path is not a file.
    if (!rest.empty() && rest.find("//") == std::string_view::npos && !rest.ends_with('/')) {
        auto whole = serve::open_beneath(root_fd, std::string(rest), false, O_PATH);
        struct stat info {};
        if (whole && ::fstat(whole->get(), &info) == 0) {
            if (S_ISDIR(info.st_mode)) return 404;  // a directory: no script named
            if (!S_ISREG(info.st_mode)) return 404;
            return found(root_fd, prefix, std::string(rest), {}, std::move(*whole), info, use, out);
        }
    }
    std::string relative;
    while (!rest.empty()) {
        std::size_t slash = rest.find('/');
        std::string_view segment = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
        if (segment.empty()) {
            rest.remove_prefix(rest.empty() ? 0 : 1);
            continue;
        }
        if (!relative.empty()) relative += '/';
        relative += segment;
        auto opened = serve::open_beneath(root_fd, relative, false, O_PATH);
        if (!opened) return 404;
        struct stat info {};
        if (::fstat(opened->get(), &info) != 0) return 404;
        if (S_ISDIR(info.st_mode)) {
            if (!rest.empty()) rest.remove_prefix(1);  // the slash after the directory
            continue;
        }
        if (!S_ISREG(info.st_mode)) return 404;
        return found(root_fd, prefix, std::move(relative), rest, std::move(*opened), info, use, out);
    }
    return 404;  // the prefix itself, or a directory: no script named
}

}  // namespace c10k::cgi
