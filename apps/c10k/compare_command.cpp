// `c10k compare`: the server-architecture experiment of the seeds (engines x response sizes x
// connection counts, plus nginx, h2o and lighttpd where installed), written up as a report with
// charts. This file turns flags into a compare::Plan; the work is in src/compare.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "compare/experiments.hpp"
#include "compare/matrix.hpp"
#include "compare/report.hpp"
#include "compare/runner.hpp"
#include "compare/servers.hpp"
#include "core/duration.hpp"
#include "engine/engine.hpp"

namespace c10k::app {

namespace {

struct CompareFlags {
    bool quick = false;
    std::string out = "compare-results";
    std::string engines;
    std::string anchors;
    std::string connections;
    std::string sizes;
    double rate = 2000;
    std::string duration;
    std::string warmup;
    bool no_max_throughput = false;
    std::string from_json;
    std::string experiment = "matrix";
    std::uint32_t cost_us = 1000;
    std::string overload_target = "20ms";
    std::string deadline = "200ms";
    std::string load_factors;
    std::uint32_t disk_files = 64;
    std::uint64_t disk_file_size = 16u << 20;
    double disk_cold_rate = 8;
    std::string data_dir;
};

std::vector<double> parse_factors(const std::string& text) {
    std::vector<double> factors;
    for (const auto& item : compare::parse_name_list(text)) {
        std::size_t used = 0;
        double value = 0;
        try {
            value = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || !(value > 0) || value > 100) {
            throw std::invalid_argument(fmt::format(
                "--load-factors: '{}' is not a factor of the capacity between 0 and 100 (e.g. "
                "0.5,1,2)",
                item));
        }
        factors.push_back(value);
    }
    if (factors.empty()) throw std::invalid_argument("--load-factors: the list is empty");
    return factors;
}

std::int64_t to_ms(const std::string& flag, const std::string& text) {
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(text, 1'000'000, us, error)) {
        throw std::invalid_argument(fmt::format("{}: {}", flag, error));
    }
    return us / 1000;
}

compare::Plan plan_from_flags(const CompareFlags& flags) {
    compare::PlanOptions options;
    options.quick = flags.quick;
    options.engines = compare::parse_name_list(flags.engines);
    options.anchors = compare::parse_name_list(flags.anchors);
    if (!flags.connections.empty()) {
        for (auto n : compare::parse_number_list("--connections", flags.connections)) {
            if (n > 100'000) throw std::invalid_argument("--connections: at most 100000");
            options.connections.push_back(static_cast<std::uint32_t>(n));
        }
    }
    if (!flags.sizes.empty()) {
        options.sizes = compare::parse_number_list("--sizes", flags.sizes);
        for (auto size : options.sizes) {
            if (size > (64u << 20)) throw std::invalid_argument("--sizes: at most 64 MiB");
        }
    }
    options.rate = flags.rate;
    if (!flags.duration.empty()) options.duration_ms = to_ms("--duration", flags.duration);
    if (!flags.warmup.empty()) options.warmup_ms = to_ms("--warmup", flags.warmup);
    if (!flags.duration.empty() && options.duration_ms < 500) {
        throw std::invalid_argument("--duration: at least 500ms");
    }
    options.max_throughput = !flags.no_max_throughput;
    options.experiment = compare::parse_experiment(flags.experiment);
    auto& settings = options.settings;
    if (flags.cost_us == 0 || flags.cost_us > 1'000'000) {
        throw std::invalid_argument("--cost: give microseconds between 1 and 1000000");
    }
    settings.cost_us = flags.cost_us;
    settings.overload_target_ms = to_ms("--overload-target", flags.overload_target);
    settings.deadline_ms = to_ms("--deadline", flags.deadline);
    if (settings.overload_target_ms <= 0 || settings.deadline_ms <= 0) {
        throw std::invalid_argument("--overload-target and --deadline: at least 1ms");
    }
    if (!flags.load_factors.empty()) settings.load_factors = parse_factors(flags.load_factors);
    if (flags.disk_files == 0 || flags.disk_file_size == 0) {
        throw std::invalid_argument("--disk-files and --disk-file-size: above 0");
    }
    settings.disk_files = flags.disk_files;
    settings.disk_file_size = flags.disk_file_size;
    if (!(flags.disk_cold_rate >= 0)) {
        throw std::invalid_argument("--disk-cold-rate: files per second, 0 or more (0: as fast as "
                                    "the readers can)");
    }
    settings.cold_rate = flags.disk_cold_rate;
    settings.data_dir = flags.data_dir;
    std::vector<std::string> known;
    std::vector<std::string> available;
    for (const auto& info : engine::all_engines()) {
        known.push_back(info.name);
        if (info.available) available.push_back(info.name);
    }
    return compare::make_plan(options, available, known, &compare::anchor_installed);
}

std::string self_binary() {
    std::error_code error;
    auto path = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) throw std::runtime_error("cannot find this executable through /proc/self/exe");
    return path.string();
}

void run_compare(const CompareFlags& flags) {
    compare::Results results;
    if (!flags.from_json.empty()) {
        // Re-draw a report from an earlier run's results.json without measuring again.
        std::ifstream in(flags.from_json);
        std::stringstream text;
        text << in.rdbuf();
        if (!in) throw std::invalid_argument("--from-json: cannot read " + flags.from_json);
        results = compare::parse_results_json(text.str());
    } else {
        compare::Plan plan = plan_from_flags(flags);
        std::fprintf(stderr, "c10k compare: %s experiment, %zu servers, about %.0f minutes; "
                     "report in %s/\n",
                     compare::experiment_name(plan.experiment).c_str(), plan.servers.size(),
                     plan.estimated_seconds() / 60.0, flags.out.c_str());
        for (const auto& note : plan.notes) std::fprintf(stderr, "c10k compare: %s\n", note.c_str());
        compare::RunnerOptions options;
        options.c10k_binary = self_binary();
        options.out_dir = flags.out;
        options.progress_tty = isatty(STDERR_FILENO);
        // Check the output folder before spending half an hour measuring.
        std::filesystem::create_directories(flags.out);
        results = plan.experiment == compare::Experiment::matrix
                      ? compare::run_plan(plan, options)
                      : compare::run_experiment(plan, options);
    }
    std::string summary = compare::write_report(flags.out, results);
    std::fputs(summary.c_str(), stdout);
    std::printf("\nreport: %s/index.html\n", flags.out.c_str());
    std::fflush(stdout);
}

}  // namespace

static const CommandRegistrar registrar{[](CLI::App& app) {
    auto flags = std::make_shared<CompareFlags>();
    CLI::App* cmd = app.add_subcommand(
        "compare",
        "Run the server-architecture experiment (engines x sizes x connections, plus nginx, "
        "h2o, lighttpd) and write a report with charts");
    cmd->add_flag("--quick", flags->quick,
                  "A small plan (epoll, poll, select, thread, staged + anchors; 100 and 1000 "
                  "connections; 128 B) that finishes in a few minutes");
    cmd->add_option("--out", flags->out, "Folder for the report")->capture_default_str();
    cmd->add_option("--engines", flags->engines,
                    "c10k engines to measure, comma-separated (default: every available one)");
    cmd->add_option("--anchors", flags->anchors,
                    "Anchor servers, comma-separated: nginx,h2o,lighttpd or none (default: all "
                    "installed)");
    cmd->add_option("--connections", flags->connections,
                    "Connection counts (default 100,1000,5000,10000,15000; --quick 100,1000)");
    cmd->add_option("--sizes", flags->sizes, "Response sizes in bytes (default 128,10240)");
    cmd->add_option("--rate", flags->rate, "Open-loop requests/s per cell")->capture_default_str();
    cmd->add_option("--duration", flags->duration,
                    "Measured interval per cell (default 6s; --quick 4s)");
    cmd->add_option("--warmup", flags->warmup,
                    "Warm-up per cell after connecting (default 2s; --quick 1s)");
    cmd->add_flag("--no-max-throughput", flags->no_max_throughput,
                  "Skip the closed-loop maximum-throughput cells");
    cmd->add_option("--experiment", flags->experiment,
                    "matrix (architectures x connections), overload (goodput over a load ramp), "
                    "disk (cached requests while cold reads run), caching (cache and sendfile "
                    "switched off at low and high concurrency); see docs/COMPARE.md")
        ->capture_default_str();
    cmd->add_option("--cost", flags->cost_us,
                    "overload: CPU microseconds each request burns (GET /cost/N)")
        ->capture_default_str();
    cmd->add_option("--overload-target", flags->overload_target,
                    "overload: the --overload-target of the controlled variants")
        ->capture_default_str();
    cmd->add_option("--deadline", flags->deadline,
                    "overload: a 200 slower than this (from its intended send) is not good")
        ->capture_default_str();
    cmd->add_option("--load-factors", flags->load_factors,
                    "overload: offered loads as multiples of the measured capacity (default "
                    "0.5,1,1.5,2,3)");
    cmd->add_option("--disk-files", flags->disk_files, "disk: files of the cold data set")
        ->capture_default_str();
    cmd->add_option("--disk-cold-rate", flags->disk_cold_rate,
                    "disk: cold files per second the readers fetch in all (default 8; 0: closed "
                    "loop)");
    cmd->add_option("--disk-file-size", flags->disk_file_size,
                    "disk: bytes per cold file (default 16 MiB: 1 GiB in all)");
    cmd->add_option("--data-dir", flags->data_dir,
                    "disk: folder for the cold data set, on a disk filesystem (default: OUT/disk-data, "
                    "removed afterwards)");
    cmd->add_option("--from-json", flags->from_json,
                    "Re-draw the report from an earlier results.json instead of measuring");
    cmd->callback([flags] {
        try {
            run_compare(*flags);
        } catch (const std::invalid_argument& e) {
            std::fprintf(stderr, "c10k compare: %s\n", e.what());
            throw CLI::RuntimeError(2);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "c10k compare: %s\n", e.what());
            throw CLI::RuntimeError(1);
        }
    });
}};

}  // namespace c10k::app
