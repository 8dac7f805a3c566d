#include "config_keys.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "config/load.hpp"

namespace c10k::app {

namespace {

/// Options that say what `serve` is to do (check, print the reference, read a file) rather
/// than how it serves: a config file cannot hold them.
constexpr std::array<std::string_view, 4> kNotSettings = {"help", "config", "check-config",
                                                          "config-reference"};

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

config::Kind derive_kind(const CLI::Option& option, const std::string& flag) {
    if (option.get_items_expected_max() == 0) return config::Kind::boolean;
    std::string type = option.get_type_name();
    type = type.substr(0, type.find(':'));  // validators append ":DESCRIPTION"
    if (option.get_items_expected_max() > 1) {
        if (type == "TEXT") return config::Kind::string_list;
    } else if (type == "BOOLEAN") {
        return config::Kind::boolean;
    } else if (type == "INT") {
        return config::Kind::integer;
    } else if (type == "UINT") {
        return config::Kind::unsigned_integer;
    } else if (type == "TEXT") {
        return config::Kind::string;
    } else if (type == "DURATION") {
        return config::Kind::duration;
    } else if (type == "SIZE") {
        return config::Kind::size;
    } else if (type == "FLOAT") {
        return config::Kind::number;
    }
    throw std::logic_error(fmt::format(
        "option --{} (type {}, up to {} values) has no config kind: give it a type name the "
        "config layer knows (TEXT, INT, UINT, FLOAT, BOOLEAN, DURATION, SIZE) or add a kind to "
        "src/config",
        flag, type, option.get_items_expected_max()));
}

/// The option's default as config texts: CLI11 writes a list as "[a,b]" and a bool as 1 or 0.
std::vector<std::string> default_values(const CLI::Option& option, config::Kind kind) {
    if (kind == config::Kind::boolean && option.get_items_expected_max() == 0) return {"false"};
    std::string text = option.get_default_str();
    if (text.empty()) return {};
    if (kind == config::Kind::boolean) return {text == "1" || text == "true" ? "true" : "false"};
    if (kind != config::Kind::string_list) return {text};
    std::vector<std::string> values;
    if (text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    for (std::string_view rest = text; !rest.empty();) {
        std::size_t comma = rest.find(',');
        values.emplace_back(rest.substr(0, comma));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return values;
}

}  // namespace

std::string snake_case(std::string_view flag) {
    std::string name(flag);
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

bool apply_setting(CLI::Option& option, const config::Setting& setting, std::string_view label,
                   const std::string& path, std::string& errors) {
    try {
        option.add_result(setting.values);
        option.run_callback();
        return true;
    } catch (const CLI::Error& error) {
        // CLI11's own conversion: a number too large for the flag's type, for example.
        if (!errors.empty()) errors += '\n';
        errors += fmt::format("{}:{}: {}: cannot take {} ({})", path, setting.line, label,
                              fmt::join(setting.values, ", "), error.what());
        return false;
    }
}

std::optional<KeyPlace> key_place(std::string_view flag) {
    if (std::find(kNotSettings.begin(), kNotSettings.end(), flag) != kNotSettings.end()) {
        return std::nullopt;
    }
    if (flag == "push") return KeyPlace{"push", "prefixes"};
    if (flag == "publish-listen" || flag == "publish-token" || flag == "demo" ||
        flag == "demo-interval") {
        return KeyPlace{"push", snake_case(flag)};
    }
    if (starts_with(flag, "push-")) return KeyPlace{"push", snake_case(flag.substr(5))};
    if (flag == "redis") return KeyPlace{"redis", "url"};
    if (starts_with(flag, "redis-")) return KeyPlace{"redis", snake_case(flag.substr(6))};
    if (starts_with(flag, "ws-")) return KeyPlace{"websocket", snake_case(flag.substr(3))};
    if (flag == "cgi") return KeyPlace{"cgi", "locations"};
    if (starts_with(flag, "cgi-")) return KeyPlace{"cgi", snake_case(flag.substr(4))};
    if (flag == "fastcgi") return KeyPlace{"fastcgi", "locations"};
    if (starts_with(flag, "fastcgi-")) return KeyPlace{"fastcgi", snake_case(flag.substr(8))};
    return KeyPlace{"server", snake_case(flag)};
}

config::Key key_of_option(const CLI::Option& option, const std::string& flag,
                          const KeyPlace& place) {
    config::Key key;
    key.table = place.table;
    key.name = place.name;
    key.kind = derive_kind(option, flag);
    key.flag = flag;
    key.help = option.get_description();
    key.default_values = default_values(option, key.kind);
    key.has_default = !key.default_values.empty();
    return key;
}

void add_option_keys(const CLI::App& command, config::KeyTable& table,
                     const std::function<std::optional<KeyPlace>(const CLI::Option&,
                                                                 const std::string&)>& place_of) {
    for (const CLI::Option* option : command.get_options()) {
        if (option->get_lnames().empty()) continue;  // positional or short-only: none here
        std::string flag = option->get_lnames().front();
        std::optional<KeyPlace> place = place_of(*option, flag);
        if (!place) continue;
        if (table.find(place->table, place->name) != nullptr) {
            throw std::logic_error(
                fmt::format("option --{} maps to [{}] {}, which another "
                            "option has: name one of them differently",
                            flag, place->table, place->name));
        }
        table.keys.push_back(key_of_option(*option, flag, *place));
    }
}

config::KeyTable serve_key_table(const CLI::App& serve) {
    config::KeyTable table;
    table.tables = {
        {"server",
         "The whole process: addresses, engine, limits, timeouts, and the static files it "
         "serves."},
        {"push",
         "Live push channels (SSE, long-poll, WebSocket) and their publish API; off unless "
         "`prefixes` or `demo` is set."},
        {"redis",
         "Push channels shared by several servers through Redis; off unless `url` is set."},
        {"websocket", "WebSocket echo locations, and the policy of every WebSocket connection."},
        {"cgi", "Programs run per request (CGI/1.1) under a prefix, and their limits; off "
                "unless `locations` is set."},
        {"fastcgi", "Requests under a prefix sent to a FastCGI application (php-fpm), scripts "
                    "found beneath `root`, and its limits; off unless `locations` is set."},
    };
    add_option_keys(serve, table,
                    [](const CLI::Option&, const std::string& flag) { return key_place(flag); });
    return table;
}

AppliedConfig apply_config_file(CLI::App& command, const std::string& path,
                                const config::KeyTable& table) {
    config::Loaded loaded = config::load(path, table);
    if (!loaded.ok()) throw std::runtime_error(loaded.error_text());
    AppliedConfig applied;
    ConfigOrigins& origins = applied.origins;
    applied.hosts = std::move(loaded.hosts);
    std::string errors;
    for (const config::Setting& setting : loaded.settings) {
        if (setting.element >= 0 || setting.flag.empty()) {
            // A pool's or a route's: the command reads those itself.
            applied.elements.push_back(setting);
            continue;
        }
        CLI::Option* option = command.get_option_no_throw("--" + setting.flag);
        if (option == nullptr) {
            throw std::logic_error(fmt::format("config key [{}] {} has no option --{}",
                                               setting.table, setting.name, setting.flag));
        }
        // The command line wins; an empty list is the default of the keys that allow one.
        if (option->count() > 0 || setting.values.empty()) continue;
        std::string label = config::key_label(setting.table, setting.name);
        if (!apply_setting(*option, setting, label, path, errors)) continue;
        origins[setting.flag] = ConfigOrigin{path, setting.line, label};
    }
    if (!errors.empty()) throw std::runtime_error(errors);
    return applied;
}

std::string with_origin(const std::string& message, const ConfigOrigins& origins) {
    if (!starts_with(message, "--")) return message;
    std::size_t end = message.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-", 2);
    std::string flag = message.substr(2, end == std::string::npos ? end : end - 2);
    auto found = origins.find(flag);
    if (found == origins.end()) return message;
    return fmt::format("{}:{}: {}: {}", found->second.path, found->second.line, found->second.label,
                       message);
}

}  // namespace c10k::app
