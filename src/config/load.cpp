#include "config/load.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "config/hosts_toml.hpp"
#include "core/duration.hpp"
#include "core/unique_fd.hpp"

namespace c10k::config {

namespace {

/// An error or a setting waits here until the walk is over, to be put in file order: toml++
/// keeps a table's keys sorted by name, not by where they were written.
struct Found {
    int line = 0;
    std::string error;  ///< empty for a setting
    Setting setting;
};

std::string list_names(const std::vector<std::string>& names, std::string_view open = "",
                       std::string_view close = "") {
    std::string text;
    for (const std::string& name : names) {
        if (!text.empty()) text += ", ";
        text += fmt::format("{}{}{}", open, name, close);
    }
    return text;
}

std::vector<std::string> table_names(const KeyTable& table) {
    std::vector<std::string> names;
    for (const TableInfo& info : table.tables) names.push_back(info.name);
    return names;
}

/// Walks a parsed document against the key table, collecting settings and errors; every
/// problem is collected, so that one run of -t shows them all.
class Walker {
public:
    Walker(const std::string& path, const KeyTable& table) : path_(path), table_(table) {}

    void walk(const toml::table& root) {
        for (auto&& [name, node] : root) {
            int line = static_cast<int>(name.source().begin.line);
            std::string key(name.str());
            const TableInfo* info = table_.find_table(key);
            if (key == kHostsKey && info == nullptr && table_.allows_hosts) {
                read_host_tables(node, line);
            } else if (info != nullptr && info->array) {
                walk_array(key, node, line);
            } else if (const toml::table* section = node.as_table()) {
                walk_table(key, *section, line);
            } else if (info == nullptr && node.is_array_of_tables()) {
                std::vector<std::string> listed;
                for (const TableInfo& known : table_.tables)
                    listed.push_back(bracketed(known.name));
                error(line,
                      fmt::format("[[{}]]: unknown table (tables: {})", key, list_names(listed)));
            } else if (table_.find_table(key) != nullptr) {
                error(line, fmt::format("{}: expected a table [{}], got {}", key, key,
                                        describe_toml_type(node)));
            } else {
                top_level_key(key, line);
            }
        }
    }

    std::vector<Found> take() { return std::move(found_); }
    HostsConfig take_hosts() { return std::move(hosts_); }

private:
    /// [[host]]: virtual hosts have a shape of their own (config/hosts.hpp).
    void read_host_tables(const toml::node& node, int line) {
        std::vector<LineError> errors;
        read_hosts(node, line, path_, hosts_, errors);
        for (LineError& error : errors) {
            Found found;
            found.line = error.line;
            found.error = std::move(error.text);
            found_.push_back(std::move(found));
        }
    }

    /// [[name]]: each element is checked against the keys of `name`, its settings marked with
    /// the element's number.
    void walk_array(const std::string& table, const toml::node& node, int line) {
        const toml::array* array = node.as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            error(line, fmt::format("{}: expected an array of tables [[{}]], got {}", table, table,
                                    describe_toml_type(node)));
            return;
        }
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::table& element = *array->get(i)->as_table();
            int element_line = static_cast<int>(element.source().begin.line);
            for (auto&& [name, value] : element) {
                check_key(table, std::string(name.str()), value,
                          static_cast<int>(name.source().begin.line), static_cast<int>(i),
                          element_line);
            }
        }
    }

    /// "[server]", or "[[pool]]" for an array of tables.
    std::string bracketed(const std::string& name) const {
        const TableInfo* info = table_.find_table(name);
        return info != nullptr && info->array ? "[[" + name + "]]" : "[" + name + "]";
    }

    void walk_table(const std::string& table, const toml::table& section, int line) {
        if (table_.find_table(table) == nullptr) {
            // [[host]] is an array of tables, apart from the key table: named among the rest.
            std::vector<std::string> names = table_names(table_);
            std::string suggestion = closest_name(table, names);
            std::string hint =
                suggestion.empty() ? "" : fmt::format("; did you mean {}?", bracketed(suggestion));
            if (table_.allows_hosts && closest_name(table, {"host"}) == "host") {
                hint = "; did you mean [[host]]?";
            }
            std::vector<std::string> listed;
            for (const std::string& name : names) listed.push_back(bracketed(name));
            if (table_.allows_hosts) listed.emplace_back("[[host]]");
            error(line, fmt::format("[{}]: unknown table{} (tables: {})", table, hint,
                                    list_names(listed)));
            return;
        }
        for (auto&& [name, node] : section) {
            check_key(table, std::string(name.str()), node,
                      static_cast<int>(name.source().begin.line));
        }
    }

    void top_level_key(const std::string& name, int line) {
        std::string owner;
        for (const Key& key : table_.keys) {
            if (key.name == name) {
                owner = key.table;
                break;
            }
        }
        std::string hint = owner.empty() ? fmt::format("keys belong in one of the tables {}",
                                                       list_names(table_names(table_), "[", "]"))
                                         : fmt::format("write it under [{}]", owner);
        error(line, fmt::format("{}: a key outside any table; {}", name, hint));
    }

    void unknown_key(const std::string& table, const std::string& name, int line) {
        std::string label = bracketed(table) + " " + name;
        std::vector<std::string> names;
        for (const Key* key : table_.keys_of(table)) names.push_back(key->name);
        std::string suggestion = closest_name(name, names);
        if (!suggestion.empty()) {
            error(line, fmt::format("{}: unknown key; did you mean '{}'?", label, suggestion));
            return;
        }
        for (const Key& key : table_.keys) {
            if (key.name == name) {
                error(line, fmt::format("{}: unknown key; '{}' is a key of [{}]", label, name,
                                        key.table));
                return;
            }
        }
        error(line,
              fmt::format("{}: unknown key (keys of [{}]: {})", label, table, list_names(names)));
    }

    void check_key(const std::string& table, const std::string& name, const toml::node& node,
                   int line, int element = -1, int element_line = 0) {
        const Key* key = table_.find(table, name);
        if (key == nullptr) {
            unknown_key(table, name, line);
            return;
        }
        // "[[pool]] factor" for an element of an array of tables, as the file writes it.
        std::string label = bracketed(table) + " " + name;
        auto wrong_type = [&] {
            error(line, fmt::format("{}: expected {}, got {}", label, describe_kind(key->kind),
                                    describe_toml_type(node)));
        };
        Setting setting{key->table, key->name, key->flag, key->kind,
                        {},         line,      element,   element_line};
        switch (key->kind) {
            case Kind::boolean:
                if (!node.is_boolean()) return wrong_type();
                setting.values.push_back(node.as_boolean()->get() ? "true" : "false");
                break;
            case Kind::integer:
            case Kind::unsigned_integer: {
                if (!node.is_integer()) return wrong_type();
                std::int64_t value = node.as_integer()->get();
                if (key->kind == Kind::unsigned_integer && value < 0) {
                    error(line, fmt::format("{}: {} is negative; expected {}", label, value,
                                            describe_kind(key->kind)));
                    return;
                }
                setting.values.push_back(std::to_string(value));
                break;
            }
            case Kind::size:
                // A number is bytes; a string keeps its suffix for the flag's parser, which
                // says what is wrong with either (as it does for the flag itself).
                if (node.is_integer()) {
                    setting.values.push_back(std::to_string(node.as_integer()->get()));
                } else if (node.is_string()) {
                    setting.values.push_back(node.as_string()->get());
                } else {
                    return wrong_type();
                }
                break;
            case Kind::string:
                if (!node.is_string()) return wrong_type();
                setting.values.push_back(node.as_string()->get());
                break;
            case Kind::number:
                if (node.is_integer()) {
                    setting.values.push_back(std::to_string(node.as_integer()->get()));
                } else if (node.is_floating_point()) {
                    setting.values.push_back(fmt::format("{}", node.as_floating_point()->get()));
                } else {
                    return wrong_type();
                }
                break;
            case Kind::duration: {
                if (!node.is_string()) return wrong_type();
                const std::string& text = node.as_string()->get();
                std::int64_t us = 0;
                std::string why;
                if (!core::parse_duration_us(text, 1'000'000, us, why)) {
                    error(line, fmt::format("{}: {}", label, why));
                    return;
                }
                setting.values.push_back(text);
                break;
            }
            case Kind::string_list: {
                const toml::array* array = node.as_array();
                if (array == nullptr) return wrong_type();
                for (std::size_t i = 0; i < array->size(); ++i) {
                    const toml::node& element = *array->get(i);
                    if (!element.is_string()) {
                        error(line,
                              fmt::format("{}: element {} is {}; expected {}", label, i + 1,
                                          describe_toml_type(element), describe_kind(key->kind)));
                        return;
                    }
                    setting.values.push_back(element.as_string()->get());
                }
                // An empty list means "none": right where the default is none, but a key
                // with a default (listen) would be left with nothing at all.
                if (setting.values.empty() && !key->default_values.empty()) {
                    error(line, fmt::format("{}: the array is empty; give at least one value, or "
                                            "leave the key out for the default [{}]",
                                            label, list_names(key->default_values, "\"", "\"")));
                    return;
                }
                break;
            }
        }
        Found found;
        found.line = line;
        found.setting = std::move(setting);
        found_.push_back(std::move(found));
    }

    void error(int line, std::string message) {
        Found found;
        found.line = line;
        found.error = fmt::format("{}:{}: {}", path_, line, message);
        found_.push_back(std::move(found));
    }

    const std::string& path_;
    const KeyTable& table_;
    std::vector<Found> found_;
    HostsConfig hosts_;
};

}  // namespace

std::string key_label(std::string_view table, std::string_view name) {
    return fmt::format("[{}] {}", table, name);
}

std::string Loaded::error_text() const {
    std::string text;
    for (const std::string& error : errors) {
        if (!text.empty()) text += '\n';
        text += error;
    }
    return text;
}

Loaded parse(std::string_view text, const std::string& path, const KeyTable& table) {
    Loaded loaded;
    loaded.path = path;
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error& error) {
        loaded.errors.push_back(fmt::format("{}:{}:{}: TOML syntax error: {}", path,
                                            error.source().begin.line, error.source().begin.column,
                                            error.description()));
        return loaded;
    }
    Walker walker(path, table);
    walker.walk(root);
    std::vector<Found> found = walker.take();
    loaded.hosts = walker.take_hosts();
    std::stable_sort(found.begin(), found.end(),
                     [](const Found& a, const Found& b) { return a.line < b.line; });
    for (Found& item : found) {
        if (item.error.empty()) {
            loaded.settings.push_back(std::move(item.setting));
        } else {
            loaded.errors.push_back(std::move(item.error));
        }
    }
    if (!loaded.ok()) {
        loaded.settings.clear();
        loaded.hosts.hosts.clear();
    }
    return loaded;
}

Loaded load(const std::string& path, const KeyTable& table) {
    // Read here rather than by toml++, so that the reason (errno) reaches the message.
    core::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string text;
    int error = fd ? 0 : errno;
    while (fd) {
        char buffer[16 * 1024];
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = errno;
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    if (error != 0) {
        Loaded loaded;
        loaded.path = path;
        loaded.errors.push_back(
            fmt::format("{}: cannot read the configuration file: {}", path, std::strerror(error)));
        return loaded;
    }
    return parse(text, path, table);
}

std::string describe_toml_type(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::array:
            return node.is_array_of_tables() ? "an array of tables" : "an array";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        default:
            return "nothing";
    }
}

}  // namespace c10k::config
