#pragma once
// Which program a CGI request runs (RFC 3875 section 3.3): the request path, beneath the
// location's prefix, is walked one segment at a time inside the CGI directory until a regular
// file is met; that file is the script, and what follows it is PATH_INFO. The kernel does the
// containment (openat2 with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS, as for static files), and
// the script is run from the descriptor that was checked (execveat), so nothing swapped in
// between the check and the exec can run.

#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace c10k::cgi {

struct Script {
    core::unique_fd file;      ///< O_PATH descriptor of the executable
    core::unique_fd directory; ///< O_PATH descriptor of the directory holding it (its cwd)
    std::string script_name;   ///< "/cgi-bin/tool.sh": the prefix and the segments walked
    std::string path_info;     ///< "/rest/of/path" after the script, or empty
    std::string relative;      ///< the script beneath the CGI directory: "tool.sh", "sub/x.py"
};

/// What the script is for. `execute` (CGI): it must have an execute bit, and `file` and
/// `directory` are kept for the exec. `name` (FastCGI): only its name is sent (the application
/// reads it), so no execute bit is asked for and no descriptor is kept.
enum class ScriptUse { execute, name };

/// Resolves `normalized` (a normalised request path, serve::normalize_path) that starts with
/// `prefix` (ending in '/') beneath the directory `root_fd`, into `out`. Returns 0, or the HTTP
/// status to answer: 404 when no script is there (or the path would leave the directory, or a
/// segment is hidden: a dot file), 403 when a script to execute has no execute bit.
int resolve_script(int root_fd, std::string_view prefix, std::string_view normalized,
                   Script& out, ScriptUse use = ScriptUse::execute);

}  // namespace c10k::cgi
