#include "fastcgi_flags.hpp"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "core/duration.hpp"
#include "core/unique_fd.hpp"
#include "fastcgi/body_buffer.hpp"
#include "fastcgi/fastcgi_handler.hpp"

namespace c10k::app {

void add_fastcgi_flags(CLI::App& command, FastcgiFlags& flags) {
    command
        .add_option("--fastcgi", flags.locations,
                    "Send requests under PREFIX to the FastCGI application (php-fpm) at ADDRESS, "
                    "scripts found beneath --root: PREFIX=unix:PATH or PREFIX=HOST:PORT (e.g. "
                    "/=unix:/run/php/php-fpm.sock); repeat for more locations")
        ->type_name("TEXT");
    command
        .add_option("--fastcgi-extensions", flags.extensions,
                    "Only files ending so are scripts sent to the FastCGI application; other "
                    "files under a FastCGI prefix are served as files. An empty list sends "
                    "every file")
        ->capture_default_str()
        ->type_name("TEXT");
    command
        .add_option("--fastcgi-timeout", flags.timeout,
                    "Connect plus the whole request to a FastCGI application: 504 when it has "
                    "not answered by then, a cut response once it began")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--fastcgi-max-connections", flags.max_connections,
                    "Connections per loop to each FastCGI application, busy and kept-alive; "
                    "beyond, requests wait up to a second for one, then 503. Keep it at most "
                    "pm.max_children divided by --threads")
        ->capture_default_str();
    command
        .add_option("--fastcgi-max-head", flags.max_head_bytes,
                    "The largest head (Status, Content-Type, ...) a FastCGI application may "
                    "write before its body; beyond, 502")
        ->capture_default_str();
    command
        .add_option("--fastcgi-temp-dir", flags.temp_dir,
                    "Where a chunked request body larger than 64 KiB is held, in an unnamed "
                    "file, until it is whole and its length can be sent to the FastCGI "
                    "application (default: $TMPDIR, else /tmp)")
        ->type_name("TEXT");
}

engine::HandlerFactory with_fastcgi(const FastcgiFlags& flags, const std::string& root,
                                    engine::HandlerFactory inner) {
    if (flags.locations.empty()) return inner;
    fastcgi::Options options;
    for (const std::string& spec : flags.locations) {
        std::size_t equals = spec.find('=');
        if (equals == std::string::npos || equals == 0 || equals + 1 == spec.size()) {
            throw std::runtime_error(fmt::format(
                "--fastcgi '{}': expected PREFIX=ADDRESS, e.g. /=unix:/run/php/php-fpm.sock or "
                "/app/=127.0.0.1:9000",
                spec));
        }
        fastcgi::Location location;
        location.prefix = spec.substr(0, equals);
        if (location.prefix.front() != '/') {
            throw std::runtime_error(
                fmt::format("--fastcgi '{}': the prefix must start with '/'", spec));
        }
        if (location.prefix.back() != '/') location.prefix += '/';
        std::string error;
        if (!fastcgi::parse_address(spec.substr(equals + 1), location.address, error)) {
            throw std::runtime_error(fmt::format("--fastcgi '{}': {}", spec, error));
        }
        options.locations.push_back(std::move(location));
    }
    for (const std::string& extension : flags.extensions) {
        if (extension.empty() || extension.find('/') != std::string::npos) {
            throw std::runtime_error(fmt::format(
                "--fastcgi-extensions '{}': give file name endings such as .php", extension));
        }
    }
    options.extensions = flags.extensions;
    char resolved[PATH_MAX];
    if (::realpath(root.c_str(), resolved) == nullptr) {
        throw std::runtime_error(
            fmt::format("--fastcgi: the root {} cannot be opened (give --root)", root));
    }
    options.root = resolved;
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(flags.timeout, 1'000'000, us, error) || us < 1000) {
        throw std::runtime_error(fmt::format("--fastcgi-timeout '{}': {}", flags.timeout,
                                             error.empty() ? "must be at least 1ms" : error));
    }
    options.timeout_ms = us / 1000;
    if (flags.max_connections == 0) {
        throw std::runtime_error("--fastcgi-max-connections: must be at least 1");
    }
    options.max_connections = flags.max_connections;
    options.max_head_bytes = flags.max_head_bytes;
    if (!flags.temp_dir.empty()) {
        if (flags.temp_dir.front() != '/') {
            throw std::runtime_error(fmt::format(
                "--fastcgi-temp-dir '{}': give an absolute path, e.g. /var/tmp", flags.temp_dir));
        }
        // Tried now, so that a wrong directory is a start-up error rather than a 500 on the
        // first chunked upload.
        int fd = fastcgi::open_anonymous_file(flags.temp_dir);
        core::unique_fd probe(fd < 0 ? -1 : fd);
        if (fd < 0) {
            throw std::runtime_error(
                fmt::format("--fastcgi-temp-dir '{}': no temporary file can be made there ({}); "
                            "give an existing directory the server may write to",
                            flags.temp_dir, std::strerror(-fd)));
        }
        options.temp_directory = flags.temp_dir;
    }
    options.software = "c10k/" C10K_VERSION;
    return [options, inner] { return std::make_unique<fastcgi::Handler>(options, inner()); };
}

}  // namespace c10k::app
