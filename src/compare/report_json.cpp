// results.json, schema "c10k-compare/1": the plan, the machine, and every cell with its
// figures or its failure. Written by hand (no JSON library in the build) and read back by
// parse_results_json so that the format is tested both ways.

#include <fmt/core.h>

#include "compare/json.hpp"
#include "compare/results.hpp"

namespace c10k::compare {

namespace {

std::string mode_name(LoadMode mode) {
    return mode == LoadMode::open_loop ? "open_loop" : "max_throughput";
}

std::string counts_json(const std::map<std::string, std::uint64_t>& counts) {
    std::string out = "{";
    for (const auto& [key, count] : counts) {
        out += fmt::format("{}{}: {}", out.size() > 1 ? ", " : "", json_quote(key), count);
    }
    return out + "}";
}

template <typename T>
std::string list_json(const std::vector<T>& items) {
    std::string out = "[";
    for (const auto& item : items) {
        if (out.size() > 1) out += ", ";
        if constexpr (std::is_same_v<T, std::string>) {
            out += json_quote(item);
        } else {
            out += fmt::format("{}", item);
        }
    }
    return out + "]";
}

std::string cell_json(const CellResult& r) {
    return fmt::format(
        "    {{\"server\": {}, \"kind\": {}, \"architecture\": {}, \"mode\": {}, "
        "\"size\": {}, \"connections\": {},\n"
        "     \"held\": {}, \"failure\": {}, \"requests\": {}, \"errors\": {}, "
        "\"errors_by_kind\": {}, \"status\": {},\n"
        "     \"rps\": {:.1f}, \"duration_s\": {:.3f}, \"connections_open\": {}, "
        "\"connections_failed\": {},\n"
        "     \"latency_us\": {{\"p50\": {:.0f}, \"p99\": {:.0f}, \"p999\": {:.0f}}},\n"
        "     \"server_cpu_s\": {:.4f}, \"cpu_us_per_request\": {:.3f}, "
        "\"cpu_utilisation\": {:.5f},\n"
        "     \"rss_kb\": {:.0f}, \"rss_kb_before\": {:.0f}, \"rss_bytes_per_connection\": {:.1f}, "
        "\"server_processes\": {}, \"wall_s\": {:.1f}, \"warnings\": {}}}",
        json_quote(r.cell.server.name),
        json_quote(r.cell.server.kind == ServerKind::engine ? "engine" : "anchor"),
        json_quote(r.cell.server.architecture), json_quote(mode_name(r.cell.mode)), r.cell.size,
        r.cell.connections, r.held ? "true" : "false", json_quote(r.failure), r.requests,
        r.errors, counts_json(r.errors_by_kind), counts_json(r.status), r.rps, r.duration_s,
        r.connections_open, r.connections_failed, r.p50_us, r.p99_us, r.p999_us, r.cpu_s,
        r.cpu_us_per_request, r.cpu_utilisation(), r.rss_kb, r.rss_kb_before,
        r.rss_bytes_per_connection, r.server_processes, r.wall_s, list_json(r.warnings));
}

}  // namespace

std::string format_results_json(const Results& results) {
    const auto& info = results.info;
    const auto& plan = results.plan;
    std::string versions = "{";
    for (const auto& [name, version] : info.versions) {
        versions += fmt::format("{}{}: {}", versions.size() > 1 ? ", " : "", json_quote(name),
                                json_quote(version));
    }
    versions += "}";
    std::vector<std::string> servers;
    for (const auto& server : plan.servers) servers.push_back(server.name);
    std::string out = fmt::format(
        "{{\n  \"schema\": \"c10k-compare/1\",\n"
        "  \"machine\": {}, \"kernel\": {}, \"commit\": {}, \"started\": {}, \"cpus\": {},\n"
        "  \"pinned\": {}, \"wall_s\": {:.1f}, \"versions\": {},\n"
        "  \"plan\": {{\"quick\": {}, \"servers\": {}, \"connections\": {}, \"sizes\": {}, "
        "\"rate\": {}, \"warmup_ms\": {}, \"duration_ms\": {}, "
        "\"max_throughput_connections\": {}, \"notes\": {}}},\n"
        "  \"cells\": [\n",
        json_quote(info.machine), json_quote(info.kernel), json_quote(info.commit),
        json_quote(info.started), info.cpus, info.pinned ? "true" : "false", info.wall_s,
        versions, plan.quick ? "true" : "false", list_json(servers), list_json(plan.connections),
        list_json(plan.sizes), plan.rate, plan.warmup_ms, plan.duration_ms,
        plan.max_throughput_connections, list_json(plan.notes));
    for (std::size_t i = 0; i < results.cells.size(); ++i) {
        out += cell_json(results.cells[i]);
        out += i + 1 < results.cells.size() ? ",\n" : "\n";
    }
    return out + "  ]\n}\n";
}

Results parse_results_json(const std::string& text) {
    JsonValue doc = JsonValue::parse(text);
    Results results;
    auto& info = results.info;
    info.machine = doc["machine"].string();
    info.kernel = doc["kernel"].string();
    info.commit = doc["commit"].string();
    info.started = doc["started"].string();
    info.cpus = static_cast<unsigned>(doc["cpus"].number());
    info.pinned = doc["pinned"].boolean();
    info.wall_s = doc["wall_s"].number();
    for (const auto& [name, version] : doc["versions"].members()) info.versions[name] = version.string();
    const JsonValue& plan = doc["plan"];
    results.plan.quick = plan["quick"].boolean();
    for (const auto& n : plan["connections"].items()) {
        results.plan.connections.push_back(static_cast<std::uint32_t>(n.number()));
    }
    for (const auto& s : plan["sizes"].items()) {
        results.plan.sizes.push_back(static_cast<std::uint64_t>(s.number()));
    }
    results.plan.rate = plan["rate"].number();
    results.plan.warmup_ms = static_cast<std::int64_t>(plan["warmup_ms"].number());
    results.plan.duration_ms = static_cast<std::int64_t>(plan["duration_ms"].number());
    results.plan.max_throughput_connections =
        static_cast<std::uint32_t>(plan["max_throughput_connections"].number(50));
    for (const auto& note : plan["notes"].items()) results.plan.notes.push_back(note.string());
    for (const auto& c : doc["cells"].items()) {
        CellResult r;
        r.cell.server.name = c["server"].string();
        r.cell.server.kind = c["kind"].string() == "anchor" ? ServerKind::anchor : ServerKind::engine;
        r.cell.server.architecture = c["architecture"].string();
        r.cell.mode = c["mode"].string() == "max_throughput" ? LoadMode::max_throughput
                                                             : LoadMode::open_loop;
        r.cell.size = static_cast<std::uint64_t>(c["size"].number());
        r.cell.connections = static_cast<std::uint32_t>(c["connections"].number());
        r.held = c["held"].boolean();
        r.failure = c["failure"].string();
        r.requests = static_cast<std::uint64_t>(c["requests"].number());
        r.errors = static_cast<std::uint64_t>(c["errors"].number());
        for (const auto& [k, v] : c["errors_by_kind"].members()) {
            r.errors_by_kind[k] = static_cast<std::uint64_t>(v.number());
        }
        for (const auto& [k, v] : c["status"].members()) r.status[k] = static_cast<std::uint64_t>(v.number());
        r.rps = c["rps"].number();
        r.duration_s = c["duration_s"].number();
        r.connections_open = static_cast<std::uint64_t>(c["connections_open"].number());
        r.connections_failed = static_cast<std::uint64_t>(c["connections_failed"].number());
        r.p50_us = c["latency_us"]["p50"].number();
        r.p99_us = c["latency_us"]["p99"].number();
        r.p999_us = c["latency_us"]["p999"].number();
        r.cpu_s = c["server_cpu_s"].number();
        r.cpu_us_per_request = c["cpu_us_per_request"].number();
        r.rss_kb = c["rss_kb"].number();
        r.rss_kb_before = c["rss_kb_before"].number();
        r.rss_bytes_per_connection = c["rss_bytes_per_connection"].number();
        r.server_processes = static_cast<std::uint32_t>(c["server_processes"].number());
        r.wall_s = c["wall_s"].number();
        for (const auto& w : c["warnings"].items()) r.warnings.push_back(w.string());
        results.cells.push_back(std::move(r));
    }
    // Servers in the order of first appearance, as the plan had them.
    for (const auto& r : results.cells) {
        bool seen = false;
        for (const auto& s : results.plan.servers) seen = seen || s.name == r.cell.server.name;
        if (!seen) results.plan.servers.push_back(r.cell.server);
    }
    return results;
}

}  // namespace c10k::compare
