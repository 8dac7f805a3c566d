#include "config/hosts.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/core.h>

#include "config/hosts_toml.hpp"
#include "config/keys.hpp"
#include "config/load.hpp"

namespace c10k::config {

namespace {

constexpr std::string_view kHostTable = "host";
constexpr std::string_view kLocationTable = "host.location";

const std::vector<std::string> kHostKeys = {"names", "root", "default", "location"};
const std::vector<std::string> kLocationKeys = {"path", "root", "push"};

/// Keys that later issues give a meaning; until then a file that uses them is refused with
/// the reason, rather than served as if the key were not there.
struct ReservedKey {
    std::string_view name;
    std::string_view what;  ///< the subject of "... not built yet"
    int issue;
};
constexpr ReservedKey kReservedLocationKeys[] = {
    {"proxy", "proxy pools are", 13},
    {"cgi", "CGI is", 14},
    {"fastcgi", "FastCGI is", 14},
};

int line_of(const toml::source_region& source) {
    return static_cast<int>(source.begin.line);
}

std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names) {
        if (!text.empty()) text += ", ";
        text += name;
    }
    return text;
}

std::string lowercase(std::string_view text) {
    std::string result(text);
    for (char& c : result) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return result;
}

bool is_name_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/// Why `name` (lowercase) cannot be a host name, or "" when it can.
std::string check_host_name(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.front() == '[') {
        // An IPv6 literal, as it comes in a Host header: "[::1]".
        bool ok =
            name.size() > 2 && name.back() == ']' &&
            std::all_of(name.begin() + 1, name.end() - 1, [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.';
            });
        return ok ? "" : "is not an IPv6 address in brackets";
    }
    std::string_view rest = name;
    if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
    if (rest.find('*') != std::string_view::npos) {
        return "has a '*' that does not lead; a wildcard is \"*.\" before a name";
    }
    if (rest.find(':') != std::string_view::npos) {
        return "has a port; a name has none (the port in a request's Host is ignored)";
    }
    if (rest.empty()) return "is a wildcard without a name after \"*.\"";
    if (!std::all_of(rest.begin(), rest.end(), is_name_byte)) {
        return "has a character that no host name has";
    }
    if (rest.front() == '.' || rest.back() == '.' || rest.find("..") != std::string_view::npos) {
        return "has an empty label (a leading, trailing or doubled '.')";
    }
    return "";
}

/// Why `path` cannot be a location's prefix, or "" when it can. Requests are matched after
/// their path is decoded and normalised, so a prefix that is not in that form never matches.
std::string check_location_path(std::string_view path) {
    if (path.empty() || path.front() != '/') return "does not start with '/'";
    for (char c : path) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) return "has a space or a control character";
        if (c == '?' || c == '#') return "has a query or fragment ('?' or '#')";
    }
    if (path.find("//") != std::string_view::npos) {
        return "has an empty segment (\"//\"), which a normalised request path never has";
    }
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        std::string_view segment = path.substr(start, end - start);
        if (segment == "." || segment == "..") {
            return "has a '.' or '..' segment, which a normalised request path never has";
        }
        start = end + 1;
    }
    return "";
}

class HostsReader {
public:
    HostsReader(const std::string& path, HostsConfig& config, std::vector<LineError>& errors)
        : path_(path), config_(config), errors_(errors) {}

    void read(const toml::node& node, int line) {
        const toml::array* array = node.as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            bool empty = array != nullptr && array->empty();
            if (empty) return;  // `host = []`: no hosts, as if the key were not there
            error(line, "[host]",
                  fmt::format("expected an array of tables, got {} (write [[host]], once per "
                              "virtual host)",
                              describe_toml_type(node)));
            return;
        }
        for (const toml::node& element : *array) {
            read_host(*element.as_table(), line_of(element.source()));
        }
    }

private:
    void error(int line, std::string_view label, std::string message) {
        errors_.push_back({line, fmt::format("{}:{}: {}: {}", path_, line, label, message)});
    }
    void key_error(int line, std::string_view table, std::string_view key, std::string message) {
        error(line, key_label(table, key), std::move(message));
    }

    void unknown_key(std::string_view table, const std::string& name, int line,
                     const std::vector<std::string>& known) {
        std::string suggestion = closest_name(name, known);
        if (!suggestion.empty()) {
            key_error(line, table, name,
                      fmt::format("unknown key; did you mean '{}'?", suggestion));
        } else {
            key_error(line, table, name,
                      fmt::format("unknown key (keys of [[{}]]: {})", table, joined(known)));
        }
    }

    /// The string at `node`, or null after reporting that it is not a non-empty string.
    const std::string* string_value(const toml::node& node, std::string_view table,
                                    std::string_view key, int line, std::string_view example) {
        const std::string* value = node.is_string() ? &node.as_string()->get() : nullptr;
        if (value == nullptr) {
            key_error(line, table, key,
                      fmt::format("expected a string such as {}, got {}", example,
                                  describe_toml_type(node)));
        } else if (value->empty()) {
            key_error(line, table, key,
                      fmt::format("is empty (allowed: a string such as {})", example));
            return nullptr;
        }
        return value;
    }

    std::optional<bool> bool_value(const toml::node& node, std::string_view table,
                                   std::string_view key, int line) {
        if (!node.is_boolean()) {
            key_error(line, table, key,
                      fmt::format("expected true or false, got {}", describe_toml_type(node)));
            return std::nullopt;
        }
        return node.as_boolean()->get();
    }

    void read_host(const toml::table& table, int line) {
        HostConfig host;
        host.line = line;
        const toml::node* locations = nullptr;
        int locations_line = 0;
        int names_line = 0;
        for (auto&& [key, node] : table) {
            std::string name(key.str());
            int key_line = line_of(key.source());
            if (name == "names") {
                names_line = key_line;
                read_names(host, node, key_line);
            } else if (name == "root") {
                if (const std::string* root =
                        string_value(node, kHostTable, name, key_line, "\"/srv/www\"")) {
                    host.root = *root;
                    host.root_line = key_line;
                }
            } else if (name == "default") {
                std::optional<bool> value = bool_value(node, kHostTable, name, key_line);
                if (value && *value) {
                    if (default_line_ != 0) {
                        key_error(key_line, kHostTable, name,
                                  fmt::format("a second default host; the [[host]] at line {} is "
                                              "the default already (one host at most)",
                                              default_line_));
                    } else {
                        default_line_ = line;
                        host.is_default = true;
                    }
                }
            } else if (name == "location") {
                locations = &node;
                locations_line = key_line;
            } else {
                unknown_key(kHostTable, name, key_line, kHostKeys);
            }
        }
        if (!host.is_default && names_line == 0) {
            key_error(line, kHostTable, "names",
                      "missing; give the names this host answers to, e.g. names = "
                      "[\"example.com\"] (only the default host may have none)");
        } else if (!host.is_default && table.get_as<toml::array>("names") != nullptr &&
                   table.get_as<toml::array>("names")->empty()) {
            key_error(names_line, kHostTable, "names",
                      "is empty; give the names this host answers to, e.g. [\"example.com\"] "
                      "(only the default host may have none)");
        }
        if (locations != nullptr) read_locations(host, *locations, locations_line);
        config_.hosts.push_back(std::move(host));
    }

    void read_names(HostConfig& host, const toml::node& node, int line) {
        const toml::array* array = node.as_array();
        if (array == nullptr) {
            key_error(line, kHostTable, "names",
                      fmt::format("expected an array of strings such as [\"example.com\", "
                                  "\"*.example.org\"], got {}",
                                  describe_toml_type(node)));
            return;
        }
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            if (!element.is_string()) {
                key_error(line, kHostTable, "names",
                          fmt::format("element {} is {}; expected a string", i + 1,
                                      describe_toml_type(element)));
                continue;
            }
            std::string name = lowercase(element.as_string()->get());
            std::string why = check_host_name(name);
            if (!why.empty()) {
                key_error(line, kHostTable, "names",
                          fmt::format("'{}' {} (allowed: a name such as \"example.com\", a "
                                      "leading wildcard such as \"*.example.com\", or an IP "
                                      "address)",
                                      element.as_string()->get(), why));
                continue;
            }
            auto [owner, inserted] = name_owners_.emplace(name, host.line);
            if (!inserted) {
                std::string where = owner->second == host.line
                                        ? std::string("this host")
                                        : fmt::format("the [[host]] at line {}", owner->second);
                key_error(line, kHostTable, "names",
                          fmt::format("'{}' is a name of {} already (a name may belong to one "
                                      "host only, once; names are compared ignoring case)",
                                      name, where));
                continue;
            }
            host.names.push_back(std::move(name));
        }
    }

    void read_locations(HostConfig& host, const toml::node& node, int line) {
        const toml::array* array = node.as_array();
        if (array == nullptr || (!array->empty() && !array->is_array_of_tables())) {
            key_error(line, kHostTable, "location",
                      fmt::format("expected an array of tables, got {} (write [[host.location]] "
                                  "under its [[host]], once per location)",
                                  describe_toml_type(node)));
            return;
        }
        std::map<std::string, int> paths;  // path -> line of its location
        for (const toml::node& element : *array) {
            LocationConfig location;
            if (read_location(*element.as_table(), line_of(element.source()), location)) {
                auto [first, inserted] = paths.emplace(location.path, location.line);
                if (!inserted) {
                    key_error(location.line, kLocationTable, "path",
                              fmt::format("'{}' is a location of this host already, at line {} "
                                          "(each path once per host)",
                                          location.path, first->second));
                    continue;
                }
                host.locations.push_back(std::move(location));
            }
        }
    }

    /// False when the location has an error (reported).
    bool read_location(const toml::table& table, int line, LocationConfig& location) {
        location.line = line;
        std::size_t errors_before = errors_.size();
        bool has_path = false;
        for (auto&& [key, node] : table) {
            std::string name(key.str());
            int key_line = line_of(key.source());
            if (name == "path") {
                has_path = true;
                const std::string* path =
                    string_value(node, kLocationTable, name, key_line, "\"/downloads/\"");
                if (path == nullptr) continue;
                std::string why = check_location_path(*path);
                if (!why.empty()) {
                    key_error(key_line, kLocationTable, name,
                              fmt::format("'{}' {} (allowed: a path prefix such as "
                                          "\"/downloads/\")",
                                          *path, why));
                    continue;
                }
                location.path = *path;
            } else if (name == "root") {
                if (const std::string* root =
                        string_value(node, kLocationTable, name, key_line, "\"/srv/files\"")) {
                    location.root = *root;
                    location.root_line = key_line;
                }
            } else if (name == "push") {
                std::optional<bool> value = bool_value(node, kLocationTable, name, key_line);
                location.push = value.value_or(false);
                location.push_line = key_line;
            } else if (const ReservedKey* reserved = find_reserved(name)) {
                key_error(key_line, kLocationTable, name,
                          fmt::format("{} not built yet (issue {}); a location today takes "
                                      "root or push = true",
                                      reserved->what, reserved->issue));
            } else {
                unknown_key(kLocationTable, name, key_line, kLocationKeys);
            }
        }
        if (!has_path) {
            key_error(line, kLocationTable, "path",
                      "missing; give the prefix this location serves, e.g. path = "
                      "\"/downloads/\"");
        }
        bool has_root = location.root_line != 0;
        if (has_root && location.push) {
            error(line, "[host.location]",
                  "both root and push = true; give one of them (one thing serves a location)");
        } else if (!has_root && !location.push && errors_.size() == errors_before) {
            error(line, "[host.location]",
                  "nothing serves it; give root = \"DIR\" (static files) or push = true (push "
                  "channels and the server's own handlers)");
        }
        return errors_.size() == errors_before;
    }

    static const ReservedKey* find_reserved(std::string_view name) {
        for (const ReservedKey& key : kReservedLocationKeys) {
            if (key.name == name) return &key;
        }
        return nullptr;
    }

    const std::string& path_;
    HostsConfig& config_;
    std::vector<LineError>& errors_;
    std::map<std::string, int> name_owners_;  ///< lowercase name -> line of its [[host]]
    int default_line_ = 0;                    ///< of the default [[host]]; 0: none yet
};

}  // namespace

std::size_t HostsConfig::default_index() const {
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        if (hosts[i].is_default) return i;
    }
    return 0;
}

void read_hosts(const toml::node& node, int line, const std::string& path, HostsConfig& config,
                std::vector<LineError>& errors) {
    HostsReader(path, config, errors).read(node, line);
}

}  // namespace c10k::config
