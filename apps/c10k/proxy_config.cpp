#include "proxy_config.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "config_keys.hpp"

namespace c10k::app {

namespace {

config::Key route_key(std::string name, config::Kind kind, std::string help) {
    config::Key key;
    key.table = "route";
    key.name = std::move(name);
    key.kind = kind;
    key.help = std::move(help);
    return key;
}

/// The settings of one element of an array of tables, in file order.
struct Element {
    int line = 0;
    std::vector<const config::Setting*> settings;
    const config::Setting* find(std::string_view name) const {
        for (const config::Setting* setting : settings) {
            if (setting->name == name) return setting;
        }
        return nullptr;
    }
};

std::map<int, Element> elements_of(const std::vector<config::Setting>& settings,
                                   std::string_view table) {
    std::map<int, Element> elements;
    for (const config::Setting& setting : settings) {
        if (setting.table != table || setting.element < 0) continue;
        Element& element = elements[setting.element];
        element.line = setting.element_line;
        element.settings.push_back(&setting);
    }
    return elements;
}

void add_error(std::string& errors, std::string message) {
    if (!errors.empty()) errors += '\n';
    errors += message;
}

PoolFlags read_pool(const Element& element, const std::string& path, std::string& errors) {
    PoolFlags pool;
    const config::Setting* name = element.find("name");
    pool.name = name != nullptr ? name->values.front() : std::string();
    pool.where = fmt::format("{}:{}: [[pool]] {}", path, element.line,
                             pool.name.empty() ? std::string("(no name)") : "'" + pool.name + "'");
    if (pool.name.empty()) {
        add_error(errors, fmt::format("{}:{}: [[pool]]: give it a name (name = \"...\"), which "
                                      "routes use to send requests to it",
                                      path, element.line));
    } else if (pool.name == "default") {
        add_error(errors, fmt::format("{}:{}: [[pool]] name: 'default' is the [proxy] pool's "
                                      "name; choose another",
                                      path, element.line));
    }
    // The flags' own parsing, as for the command line: one scratch command per pool.
    CLI::App scratch;
    add_proxy_flags(scratch, pool.flags);
    for (const config::Setting* setting : element.settings) {
        if (setting->flag.empty()) continue;  // name
        CLI::Option* option = scratch.get_option_no_throw("--" + setting->flag);
        if (option == nullptr) continue;
        apply_setting(*option, *setting, "[[pool]] " + setting->name, path, errors);
    }
    return pool;
}

RouteFlags read_route(const Element& element, const std::string& path, std::string& errors) {
    RouteFlags route;
    route.where = fmt::format("{}:{}: [[route]]", path, element.line);
    for (const config::Setting* setting : element.settings) {
        const std::string& key = setting->name;
        const std::vector<std::string>& values = setting->values;
        if (key == "host") {
            for (const std::string& host : values) {
                std::string lower = host;
                std::transform(lower.begin(), lower.end(), lower.begin(),
                               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                route.hosts.push_back(std::move(lower));
            }
        } else if (key == "path" || key == "path_prefix") {
            if (values.front().empty() || values.front().front() != '/') {
                add_error(errors, fmt::format("{}:{}: [[route]] {}: '{}' does not start with '/'",
                                              path, setting->line, key, values.front()));
            }
            (key == "path" ? route.path : route.path_prefix) = values.front();
        } else if (key == "path_regex") {
            route.path_regex = values.front();
        } else if (key == "method") {
            route.methods = values;
        } else if (key == "header") {
            route.headers = values;
        } else if (key == "pool") {
            route.pool = values.front();
        } else if (key == "retry_non_idempotent") {
            route.retry_non_idempotent = values.front() == "true";
        }
    }
    if (route.pool.empty()) {
        add_error(errors, fmt::format("{}:{}: [[route]]: say which pool serves it (pool = "
                                      "\"NAME\", or \"default\" for the [proxy] pool)",
                                      path, element.line));
    }
    return route;
}

}  // namespace

config::KeyTable proxy_key_table(const CLI::App& proxy) {
    config::KeyTable table;
    table.allows_hosts = false;
    table.tables = {
        {"server",
         "The whole process: addresses, engine, limits, timeouts and logs, as for `c10k serve`."},
        {"proxy",
         "The default pool: the servers that take the requests no route sends elsewhere, and "
         "how they are balanced. Optional when [[pool]] tables and routes cover every request."},
        {"pool", "A named pool, with the keys of [proxy] and a `name` that routes refer to.", true},
        {"route",
         "Which pool serves a request: routes are tried in file order and the first whose "
         "every condition holds wins (a condition with several values holds when any does); a "
         "request no route takes goes to the default pool, or gets 404 without one.",
         true},
    };
    std::vector<std::string> pool_flags = proxy_pool_flag_names();
    auto is_pool_flag = [&pool_flags](const std::string& flag) {
        return std::find(pool_flags.begin(), pool_flags.end(), flag) != pool_flags.end();
    };
    add_option_keys(
        proxy, table,
        [&is_pool_flag](const CLI::Option&, const std::string& flag) -> std::optional<KeyPlace> {
            if (is_pool_flag(flag)) return KeyPlace{"proxy", snake_case(flag)};
            return key_place(flag);
        });
    config::Key name;
    name.table = "pool";
    name.name = "name";
    name.help = "The pool's name, which [[route]] pool refers to (required; not \"default\")";
    table.keys.push_back(std::move(name));
    CLI::App scratch;
    ProxyFlags flags;
    add_proxy_flags(scratch, flags);
    add_option_keys(
        scratch, table,
        [&is_pool_flag](const CLI::Option&, const std::string& flag) -> std::optional<KeyPlace> {
            if (!is_pool_flag(flag)) return std::nullopt;
            return KeyPlace{"pool", snake_case(flag)};
        });
    using config::Kind;
    table.keys.push_back(route_key("pool", Kind::string,
                                   "The pool that serves what the route matches: a [[pool]] "
                                   "name, or \"default\" for the [proxy] pool (required)"));
    table.keys.push_back(route_key(
        "host", Kind::string_list,
        "Host header names, exact or \"*.example.org\" (any name below it), compared without "
        "the port and case"));
    table.keys.push_back(route_key("path", Kind::string,
                                   "The whole path, decoded and normalised (\"/a/../b\" is "
                                   "\"/b\"), without the query"));
    table.keys.push_back(route_key("path_prefix", Kind::string,
                                   "The start of the path, decoded and normalised, e.g. "
                                   "\"/cgi-bin/\""));
    table.keys.push_back(route_key("path_regex", Kind::string,
                                   "A PCRE2 regular expression the decoded, normalised path "
                                   "matches (anchor it with ^ and $ to match all of it)"));
    table.keys.push_back(route_key("method", Kind::string_list,
                                   "Request methods, e.g. [\"POST\", \"PUT\", \"PATCH\", "
                                   "\"DELETE\"]"));
    table.keys.push_back(route_key("header", Kind::string_list,
                                   "Header conditions, every one required: \"Name: value\" "
                                   "(that exact value) or \"Name\" (present)"));
    table.keys.push_back(route_key("retry_non_idempotent", Kind::boolean,
                                   "POST and PATCH on this route are retried on another server "
                                   "as GET is (only for backends that are idempotent by "
                                   "design)"));
    return table;
}

ProxyLayout read_proxy_layout(const std::vector<config::Setting>& elements,
                              const std::string& path) {
    ProxyLayout layout;
    std::string errors;
    for (const auto& [index, element] : elements_of(elements, "pool")) {
        PoolFlags pool = read_pool(element, path, errors);
        for (const PoolFlags& earlier : layout.pools) {
            if (!pool.name.empty() && earlier.name == pool.name) {
                add_error(errors, fmt::format("{}:{}: [[pool]] name: '{}' is taken by the pool "
                                              "at {}",
                                              path, element.line, pool.name, earlier.where));
            }
        }
        layout.pools.push_back(std::move(pool));
    }
    for (const auto& [index, element] : elements_of(elements, "route")) {
        layout.routes.push_back(read_route(element, path, errors));
    }
    if (!errors.empty()) throw std::runtime_error(errors);
    return layout;
}

}  // namespace c10k::app
