#include "cgi/script.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "serve/file_open.hpp"
#include "serve/path.hpp"

namespace c10k::cgi {

int resolve_script(int root_fd, std::string_view prefix, std::string_view normalized,
                   Script& out, bool require_executable) {
    if (!normalized.starts_with(prefix) || serve::has_dot_segment(normalized)) {
        return 404;
    }
    std::string_view rest = normalized.substr(prefix.size());
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
        if (require_executable && (info.st_mode & 0111) == 0) return 403;
        Script& script = out;
        script.file = std::move(*opened);
        std::string parent = relative.find('/') == std::string::npos
                                 ? std::string(".")
                                 : relative.substr(0, relative.rfind('/'));
        auto directory = serve::open_beneath(root_fd, parent, false, O_PATH | O_DIRECTORY);
        if (!directory) return 404;
        script.directory = std::move(*directory);
        script.script_name = std::string(prefix) + relative;
        script.path_info = std::string(rest);
        script.relative = std::move(relative);
        return 0;
    }
    return 404;  // the prefix itself, or a directory: no script named
}

}  // namespace c10k::cgi
