#include "vhost_flags.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

#include "serve/host_router.hpp"

namespace c10k::app {

namespace {

/// A root of a host or location, opened once: its first handler holds the descriptor that
/// every later handler of that root borrows (as prepare_serve does for [server] root).
struct OpenRoot {
    std::string path;
    serve::StaticOptions options;
    std::shared_ptr<serve::StaticFiles> first;
};

/// Builds the route table, numbering targets: 0 is the server's own handler chain, i + 1 the
/// static files of roots[i].
class RouteBuilder {
public:
    RouteBuilder(const std::string& file, const serve::StaticOptions& options,
                 const PushFlags& push)
        : file_(file), options_(options), push_prefixes_(push.prefixes) {
        // --demo serves push under /live/ when no prefix is given (make_push_hub).
        if (push.demo && push_prefixes_.empty()) push_prefixes_.push_back("/live/");
    }

    std::shared_ptr<serve::RouteTable> build(const config::HostsConfig& hosts) {
        auto table = std::make_shared<serve::RouteTable>();
        for (const config::HostConfig& host : hosts.hosts) {
            std::size_t target = target_of(host.root, host.root_line, "[host] root");
            std::size_t index = table->add_host(host.names, target);
            for (const config::LocationConfig& location : host.locations) {
                if (location.push) {
                    check_push(location);
                    table->add_location(index, location.path, 0);
                } else {
                    table->add_location(
                        index, location.path,
                        target_of(location.root, location.root_line, "[host.location] root"));
                }
            }
        }
        table->set_default_host(hosts.default_index());
        return table;
    }

    const std::vector<std::string>& errors() const { return errors_; }
    const std::vector<OpenRoot>& roots() const { return roots_; }

private:
    /// The target that serves `root` (0, the server's own, for none or the [server] root).
    std::size_t target_of(const std::string& root, int line, std::string_view label) {
        if (root.empty() || root == options_.root) return 0;
        for (std::size_t i = 0; i < roots_.size(); ++i) {
            if (roots_[i].path == root) return i + 1;
        }
        OpenRoot opened{root, options_, nullptr};
        opened.options.root = root;
        opened.options.shared_root_fd = -1;
        try {
            opened.first = std::make_shared<serve::StaticFiles>(opened.options);
        } catch (const std::runtime_error& e) {
            errors_.push_back(
                fmt::format("{}:{}: {}: {} (allowed: a directory the server may read)", file_, line,
                            label, e.what()));
            return 0;
        }
        opened.options.shared_root_fd = opened.first->root_fd();
        roots_.push_back(std::move(opened));
        return roots_.size();
    }

    void check_push(const config::LocationConfig& location) {
        std::string label = fmt::format("{}:{}: [host.location] push", file_, location.push_line);
        if (push_prefixes_.empty()) {
            errors_.push_back(fmt::format(
                "{}: push is off, so nothing serves '{}' as push (turn it on with [push] "
                "prefixes = [\"{}\"], or give the location a root instead)",
                label, location.path, location.path));
            return;
        }
        std::string list;
        for (const std::string& prefix : push_prefixes_) {
            bool under = location.path.compare(0, prefix.size(), prefix) == 0;
            bool contains = prefix.compare(0, location.path.size(), location.path) == 0;
            if (under || contains) return;
            list += (list.empty() ? "" : ", ") + prefix;
        }
        errors_.push_back(
            fmt::format("{}: '{}' neither lies under a push prefix nor holds one ([push] "
                        "prefixes: {}); push serves its prefixes ahead of the hosts, so add '{}' "
                        "to them or give the location a root instead",
                        label, location.path, list, location.path));
    }

    const std::string& file_;
    const serve::StaticOptions& options_;
    std::vector<std::string> push_prefixes_;
    std::vector<OpenRoot> roots_;
    std::vector<std::string> errors_;
};

}  // namespace

void enable_virtual_hosts(const std::string& config_path, const config::HostsConfig& hosts,
                          const serve::StaticOptions& options, const PushFlags& push,
                          engine::HandlerFactory& handlers) {
    if (hosts.empty()) return;
    RouteBuilder builder(config_path, options, push);
    std::shared_ptr<const serve::RouteTable> table = builder.build(hosts);
    if (!builder.errors().empty()) {
        std::string text;
        for (const std::string& error : builder.errors()) {
            if (!text.empty()) text += '\n';
            text += error;
        }
        throw std::runtime_error(text);
    }
    handlers = [inner = std::move(handlers), table, roots = builder.roots()] {
        std::vector<std::unique_ptr<http::Handler>> targets;
        targets.reserve(roots.size() + 1);
        targets.push_back(inner());
        for (const OpenRoot& root : roots) {
            targets.push_back(std::make_unique<serve::StaticFiles>(root.options));
        }
        return std::make_unique<serve::HostRouter>(table, std::move(targets));
    };
}

}  // namespace c10k::app
