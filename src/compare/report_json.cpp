// results.json, schema "c10k-compare/1": the plan, the machine, and every cell with its
// figures or its failure. Built and read back with nlohmann-json (compare/json.hpp), so that the
// format is tested both ways; the figures are rounded as the reports show them, so a file that
// is committed does not change in its tenth decimal from one run to the next.

#include <cmath>
#include <stdexcept>

#include "compare/json.hpp"
#include "compare/results.hpp"

namespace c10k::compare {

namespace {

constexpr std::string_view kSchema = "c10k-compare/1";

std::string mode_name(LoadMode mode) {
    return mode == LoadMode::open_loop ? "open_loop" : "max_throughput";
}

/// A figure shown as a whole number (microseconds, kilobytes).
std::int64_t whole(double value) {
    return std::isfinite(value) ? std::llround(value) : 0;
}

Json cell_json(const CellResult& r) {
    Json cell;
    cell["server"] = r.cell.server.name;
    cell["kind"] = r.cell.server.kind == ServerKind::engine ? "engine" : "anchor";
    cell["architecture"] = r.cell.server.architecture;
    cell["mode"] = mode_name(r.cell.mode);
    cell["size"] = r.cell.size;
    cell["connections"] = r.cell.connections;
    cell["held"] = r.held;
    cell["failure"] = r.failure;
    cell["requests"] = r.requests;
    cell["errors"] = r.errors;
    cell["errors_by_kind"] = Json(r.errors_by_kind);
    cell["status"] = Json(r.status);
    cell["rps"] = rounded(r.rps, 1);
    cell["duration_s"] = rounded(r.duration_s, 3);
    cell["connections_open"] = r.connections_open;
    cell["connections_failed"] = r.connections_failed;
    cell["latency_us"] = {
        {"p50", whole(r.p50_us)}, {"p99", whole(r.p99_us)}, {"p999", whole(r.p999_us)}};
    cell["server_cpu_s"] = rounded(r.cpu_s, 4);
    cell["cpu_us_per_request"] = rounded(r.cpu_us_per_request, 3);
    cell["cpu_utilisation"] = rounded(r.cpu_utilisation(), 5);
    cell["rss_kb"] = whole(r.rss_kb);
    cell["rss_kb_before"] = whole(r.rss_kb_before);
    cell["rss_bytes_per_connection"] = rounded(r.rss_bytes_per_connection, 1);
    cell["server_processes"] = r.server_processes;
    cell["wall_s"] = rounded(r.wall_s, 1);
    cell["warnings"] = r.warnings;
    if (r.cell.experiment != Experiment::matrix) {
        cell["experiment"] = experiment_name(r.cell.experiment);
        cell["variant"] = r.cell.server.variant;
        cell["flags"] = r.cell.server.flags;
        cell["phase"] = r.cell.phase;
        cell["offered_rps"] = rounded(r.cell.rate, 1);
        cell["load_factor"] = rounded(r.cell.load_factor, 3);
        cell["deadline_ms"] = rounded(r.deadline_ms, 3);
        cell["good"] = r.good;
        cell["good_rps"] = rounded(r.good_rps, 1);
        cell["ok_p99_us"] = whole(r.ok_p99_us);
    }
    return cell;
}

/// The counts of an object such as {"200": 12000}; none when absent.
std::map<std::string, std::uint64_t> counts_of(const Json& object) {
    std::map<std::string, std::uint64_t> counts;
    if (!object.is_object()) return counts;
    for (const auto& item : object.items()) counts[item.key()] = count_at(object, item.key());
    return counts;
}

/// The elements of the array at `key`; none when absent.
const Json& array_at(const Json& object, std::string_view key) {
    static const Json kEmpty = Json::array();
    const Json& value = member(object, key);
    return value.is_array() ? value : kEmpty;
}

}  // namespace

std::string format_results_json(const Results& results) {
    const auto& info = results.info;
    const auto& plan = results.plan;
    std::vector<std::string> servers;
    for (const auto& server : plan.servers) servers.push_back(server.name);
    Json doc;
    doc["schema"] = kSchema;
    doc["machine"] = info.machine;
    doc["kernel"] = info.kernel;
    doc["commit"] = info.commit;
    doc["started"] = info.started;
    doc["cpus"] = info.cpus;
    doc["pinned"] = info.pinned;
    doc["wall_s"] = rounded(info.wall_s, 1);
    doc["versions"] = Json(info.versions);
    doc["plan"] = {
        {"quick", plan.quick},
        {"servers", servers},
        {"connections", plan.connections},
        {"sizes", plan.sizes},
        {"rate", plan.rate == std::floor(plan.rate) ? Json(whole(plan.rate)) : Json(plan.rate)},
        {"warmup_ms", plan.warmup_ms},
        {"duration_ms", plan.duration_ms},
        {"max_throughput_connections", plan.max_throughput_connections},
        {"notes", plan.notes},
        {"experiment", experiment_name(plan.experiment)}};
    if (plan.experiment != Experiment::matrix) {
        const auto& s = plan.settings;
        doc["plan"]["settings"] = {{"cost_us", s.cost_us},
                                   {"overload_target_ms", s.overload_target_ms},
                                   {"deadline_ms", s.deadline_ms},
                                   {"load_factors", s.load_factors},
                                   {"disk_files", s.disk_files},
                                   {"disk_file_size", s.disk_file_size},
                                   {"disk_cold_rate", s.cold_rate}};
    }
    Json cells = Json::array();
    for (const auto& cell : results.cells) cells.push_back(cell_json(cell));
    doc["cells"] = std::move(cells);
    return dump_json(doc);
}

Results parse_results_json(const std::string& text) {
    Json doc = parse_json(text);
    if (!doc.is_object()) throw std::runtime_error("results.json: not a JSON object");
    std::string schema = string_at(doc, "schema");
    if (!schema.empty() && schema != kSchema) {
        throw std::runtime_error("results.json: schema is \"" + schema + "\", expected \"" +
                                 std::string(kSchema) +
                                 "\" (is this the results.json of `c10k compare`?)");
    }
    Results results;
    auto& info = results.info;
    info.machine = string_at(doc, "machine");
    info.kernel = string_at(doc, "kernel");
    info.commit = string_at(doc, "commit");
    info.started = string_at(doc, "started");
    info.cpus = static_cast<unsigned>(count_at(doc, "cpus"));
    info.pinned = boolean_at(doc, "pinned");
    info.wall_s = number_at(doc, "wall_s");
    const Json& versions = member(doc, "versions");
    if (versions.is_object()) {
        for (const auto& item : versions.items()) {
            info.versions[item.key()] = string_at(versions, item.key());
        }
    }
    const Json& plan = member(doc, "plan");
    results.plan.quick = boolean_at(plan, "quick");
    for (const auto& n : array_at(plan, "connections")) {
        results.plan.connections.push_back(static_cast<std::uint32_t>(n.get<double>()));
    }
    for (const auto& size : array_at(plan, "sizes")) {
        results.plan.sizes.push_back(static_cast<std::uint64_t>(size.get<double>()));
    }
    results.plan.rate = number_at(plan, "rate");
    results.plan.warmup_ms = static_cast<std::int64_t>(number_at(plan, "warmup_ms"));
    results.plan.duration_ms = static_cast<std::int64_t>(number_at(plan, "duration_ms"));
    results.plan.max_throughput_connections =
        static_cast<std::uint32_t>(number_at(plan, "max_throughput_connections", 50));
    for (const auto& note : array_at(plan, "notes")) {
        results.plan.notes.push_back(note.get<std::string>());
    }
    std::string experiment = string_at(plan, "experiment");
    results.plan.experiment = experiment.empty() ? Experiment::matrix : parse_experiment(experiment);
    if (results.plan.experiment != Experiment::matrix) results.plan.max_throughput = false;
    const Json& settings = member(plan, "settings");
    if (settings.is_object()) {
        auto& s = results.plan.settings;
        s.cost_us = static_cast<std::uint32_t>(number_at(settings, "cost_us", s.cost_us));
        s.overload_target_ms = static_cast<std::int64_t>(
            number_at(settings, "overload_target_ms", static_cast<double>(s.overload_target_ms)));
        s.deadline_ms = static_cast<std::int64_t>(
            number_at(settings, "deadline_ms", static_cast<double>(s.deadline_ms)));
        s.load_factors.clear();
        for (const auto& f : array_at(settings, "load_factors")) s.load_factors.push_back(f.get<double>());
        s.disk_files = static_cast<std::uint32_t>(count_at(settings, "disk_files"));
        s.disk_file_size = count_at(settings, "disk_file_size");
        s.cold_rate = number_at(settings, "disk_cold_rate", 0);
    }
    for (const auto& c : array_at(doc, "cells")) {
        CellResult r;
        r.cell.server.name = string_at(c, "server");
        r.cell.server.kind =
            string_at(c, "kind") == "anchor" ? ServerKind::anchor : ServerKind::engine;
        r.cell.server.architecture = string_at(c, "architecture");
        r.cell.mode = string_at(c, "mode") == "max_throughput" ? LoadMode::max_throughput
                                                               : LoadMode::open_loop;
        r.cell.size = count_at(c, "size");
        r.cell.connections = static_cast<std::uint32_t>(count_at(c, "connections"));
        r.held = boolean_at(c, "held");
        r.failure = string_at(c, "failure");
        r.requests = count_at(c, "requests");
        r.errors = count_at(c, "errors");
        r.errors_by_kind = counts_of(member(c, "errors_by_kind"));
        r.status = counts_of(member(c, "status"));
        r.rps = number_at(c, "rps");
        r.duration_s = number_at(c, "duration_s");
        r.connections_open = count_at(c, "connections_open");
        r.connections_failed = count_at(c, "connections_failed");
        const Json& latency = member(c, "latency_us");
        r.p50_us = number_at(latency, "p50");
        r.p99_us = number_at(latency, "p99");
        r.p999_us = number_at(latency, "p999");
        r.cpu_s = number_at(c, "server_cpu_s");
        r.cpu_us_per_request = number_at(c, "cpu_us_per_request");
        r.rss_kb = number_at(c, "rss_kb");
        r.rss_kb_before = number_at(c, "rss_kb_before");
        r.rss_bytes_per_connection = number_at(c, "rss_bytes_per_connection");
        r.server_processes = static_cast<std::uint32_t>(count_at(c, "server_processes"));
        r.wall_s = number_at(c, "wall_s");
        for (const auto& w : array_at(c, "warnings")) r.warnings.push_back(w.get<std::string>());
        std::string cell_experiment = string_at(c, "experiment");
        if (!cell_experiment.empty()) {
            r.cell.experiment = parse_experiment(cell_experiment);
            r.cell.server.variant = string_at(c, "variant");
            for (const auto& f : array_at(c, "flags")) r.cell.server.flags.push_back(f.get<std::string>());
            r.cell.phase = string_at(c, "phase");
            r.cell.rate = number_at(c, "offered_rps");
            r.cell.load_factor = number_at(c, "load_factor");
            r.deadline_ms = number_at(c, "deadline_ms");
            r.good = count_at(c, "good");
            r.good_rps = number_at(c, "good_rps");
            r.ok_p99_us = number_at(c, "ok_p99_us");
        }
        results.cells.push_back(std::move(r));
    }
    // Servers in the order of first appearance, as the plan had them.
    for (const auto& r : results.cells) {
        bool seen = false;
        for (const auto& s : results.plan.servers) seen = seen || s.label() == r.cell.server.label();
        if (!seen) results.plan.servers.push_back(r.cell.server);
    }
    return results;
}

}  // namespace c10k::compare
