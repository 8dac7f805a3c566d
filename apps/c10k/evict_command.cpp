// `c10k evict PATH...`: drops files' pages from the page cache before a cold-cache measurement,
// and says how many were resident before and after, so that a person (or a bench script's log)
// can see that it worked. See bench/page_cache.hpp for what the kernel will and will not drop.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/page_cache.hpp"
#include "commands.hpp"

namespace c10k::app {

namespace {

struct EvictTotals {
    std::uint64_t files = 0;
    std::uint64_t pages = 0;
    std::uint64_t before = 0;
    std::uint64_t after = 0;
    std::uint64_t memory_backed = 0;
    std::uint64_t failed = 0;
};

void print_file(const bench::EvictedFile& file) {
    if (!file.error.empty()) {
        std::fprintf(stderr, "c10k evict: %s: %s\n", file.path.c_str(), file.error.c_str());
        return;
    }
    std::printf("%s: %llu of %llu pages resident before, %llu after%s\n", file.path.c_str(),
                static_cast<unsigned long long>(file.resident_before),
                static_cast<unsigned long long>(file.pages),
                static_cast<unsigned long long>(file.resident_after),
                file.memory_backed ? " (on tmpfs: the page cache is the file's only copy, "
                                     "nothing can be evicted)"
                                   : "");
}

void run_evict(const std::vector<std::string>& paths, bool quiet) {
    EvictTotals totals;
    for (const auto& path : paths) {
        bench::evict_path(path, [&](const bench::EvictedFile& file) {
            if (!file.error.empty()) {
                ++totals.failed;
            } else {
                ++totals.files;
                totals.pages += file.pages;
                totals.before += file.resident_before;
                totals.after += file.resident_after;
                if (file.memory_backed) ++totals.memory_backed;
            }
            if (!quiet || !file.error.empty()) print_file(file);
        });
    }
    std::printf("evicted %llu files, %llu pages: %llu resident before, %llu after\n",
                static_cast<unsigned long long>(totals.files),
                static_cast<unsigned long long>(totals.pages),
                static_cast<unsigned long long>(totals.before),
                static_cast<unsigned long long>(totals.after));
    if (totals.memory_backed > 0) {
        std::printf(
            "note: %llu of the files are on tmpfs, where the page cache is the file's only "
            "copy: nothing can be evicted there, so a cold-cache run needs the files on "
            "a disk filesystem\n",
            static_cast<unsigned long long>(totals.memory_backed));
    } else if (totals.after > 0) {
        std::printf(
            "note: the kernel keeps dirty pages and pages mapped by a running process; "
            "run `sync`, stop the server, and evict again for a colder cache\n");
    }
    std::fflush(stdout);
    if (totals.failed > 0) {
        std::fprintf(stderr,
                     "c10k evict: %llu %s could not be evicted (see above); give existing files "
                     "or directories that this user can read\n",
                     static_cast<unsigned long long>(totals.failed),
                     totals.failed == 1 ? "path" : "paths");
        throw CLI::RuntimeError(1);
    }
}

}  // namespace

static const CommandRegistrar registrar{[](CLI::App& app) {
    CLI::App* cmd = app.add_subcommand(
        "evict",
        "Drop files' pages from the page cache (for cold-cache measurements) and count "
        "the pages resident before and after");
    auto paths = std::make_shared<std::vector<std::string>>();
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("paths", *paths, "Files or directories (recursively) to evict");
    cmd->add_flag("--quiet", *quiet, "Print only the total and any errors, not a line per file");
    cmd->footer(
        "Uses posix_fadvise(POSIX_FADV_DONTNEED), which needs no privilege. Pages that are dirty "
        "or mapped by a running process stay resident; on tmpfs nothing can be evicted. Exits 1 "
        "when a path is missing or unreadable, 2 when none is given.");
    cmd->callback([paths, quiet] {
        if (paths->empty()) {
            std::fprintf(stderr,
                         "c10k evict: give the files or directories to evict, e.g. "
                         "c10k evict examples/site\n");
            throw CLI::RuntimeError(2);
        }
        run_evict(*paths, *quiet);
    });
}};

}  // namespace c10k::app
