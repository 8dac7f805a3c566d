#include "cgi_flags.hpp"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <stdexcept>

#include <fmt/core.h>

#include "cgi/cgi_handler.hpp"
#include "core/duration.hpp"

namespace c10k::app {

void add_cgi_flags(CLI::App& command, CgiFlags& flags) {
    command
        .add_option("--cgi", flags.locations,
                    "Run programs (CGI/1.1) for requests under PREFIX from the directory DIR, "
                    "PREFIX=DIR (e.g. /cgi-bin/=/srv/cgi-bin); repeat for more locations")
        ->type_name("TEXT");
    command
        .add_option("--cgi-timeout", flags.timeout,
                    "A CGI program running longer is killed with its process group: 504, or a "
                    "cut response once it began")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--cgi-max-processes", flags.max_processes,
                    "CGI programs running at once per loop; beyond, requests wait (as many "
                    "as may run) for --cgi-queue-timeout, then get 503 with Retry-After")
        ->capture_default_str();
    command
        .add_option("--cgi-queue-timeout", flags.queue_timeout,
                    "How long a CGI request waits for a free process slot before 503; 0 "
                    "answers 503 at once")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--cgi-max-head", flags.max_head_bytes,
                    "The largest head (Status, Content-Type, ...) a CGI program may write "
                    "before its body; beyond, 502")
        ->capture_default_str();
}

engine::HandlerFactory with_cgi(const CgiFlags& flags, engine::HandlerFactory inner) {
    if (flags.locations.empty()) return inner;
    cgi::Options options;
    for (const std::string& spec : flags.locations) {
        std::size_t equals = spec.find('=');
        if (equals == std::string::npos || equals == 0 || equals + 1 == spec.size()) {
            throw std::runtime_error(fmt::format(
                "--cgi '{}': expected PREFIX=DIR, e.g. /cgi-bin/=/srv/cgi-bin", spec));
        }
        cgi::Location location;
        location.prefix = spec.substr(0, equals);
        if (location.prefix.front() != '/') {
            throw std::runtime_error(
                fmt::format("--cgi '{}': the prefix must start with '/'", spec));
        }
        if (location.prefix.back() != '/') location.prefix += '/';
        char resolved[PATH_MAX];
        std::string directory = spec.substr(equals + 1);
        struct stat info {};
        if (::realpath(directory.c_str(), resolved) == nullptr ||
            ::stat(resolved, &info) != 0 || !S_ISDIR(info.st_mode)) {
            throw std::runtime_error(fmt::format(
                "--cgi '{}': {} is not a directory (give the programs' directory)", spec,
                directory));
        }
        location.directory = resolved;
        options.locations.push_back(std::move(location));
    }
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(flags.timeout, 1'000'000, us, error) || us < 1000) {
        throw std::runtime_error(fmt::format(
            "--cgi-timeout '{}': {}", flags.timeout, error.empty() ? "must be at least 1ms" : error));
    }
    options.timeout_ms = us / 1000;
    if (flags.max_processes == 0) {
        throw std::runtime_error("--cgi-max-processes: must be at least 1");
    }
    options.max_processes = flags.max_processes;
    if (!core::parse_duration_us(flags.queue_timeout, 1'000'000, us, error) || us < 0) {
        throw std::runtime_error(fmt::format("--cgi-queue-timeout '{}': {}", flags.queue_timeout,
                                             error.empty() ? "must not be negative" : error));
    }
    options.queue_timeout_ms = us / 1000;
    options.max_head_bytes = flags.max_head_bytes;
    options.software = "c10k/" C10K_VERSION;
    return [options, inner] { return std::make_unique<cgi::Handler>(options, inner()); };
}

}  // namespace c10k::app
