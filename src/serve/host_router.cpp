#include "serve/host_router.hpp"

#include <algorithm>
#include <optional>

#include "serve/path.hpp"

namespace c10k::serve {

namespace {

unsigned char lower(char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte >= 'A' && byte <= 'Z' ? static_cast<unsigned char>(byte | 0x20) : byte;
}

}  // namespace

std::size_t RouteTable::NameHash::operator()(std::string_view name) const noexcept {
    // FNV-1a over the lowercased bytes: names are short, and equal names in any case hash alike.
    std::size_t hash = 14695981039346656037ull;
    for (char c : name) {
        hash ^= lower(c);
        hash *= 1099511628211ull;
    }
    return hash;
}

bool RouteTable::NameEqual::operator()(std::string_view a, std::string_view b) const noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::size_t RouteTable::add_host(const std::vector<std::string>& names, std::size_t target) {
    std::size_t index = hosts_.size();
    hosts_.push_back(Host{target, {}});
    for (const std::string& name : names) {
        if (name.size() > 2 && name.compare(0, 2, "*.") == 0) {
            wildcards_.emplace(name.substr(1), index);
        } else {
            exact_.emplace(name, index);
        }
    }
    return index;
}

void RouteTable::add_location(std::size_t host, std::string prefix, std::size_t target) {
    std::vector<Location>& locations = hosts_.at(host).locations;
    auto longer = [](const Location& a, const Location& b) {
        return a.prefix.size() > b.prefix.size();
    };
    Location location{std::move(prefix), target};
    locations.insert(std::upper_bound(locations.begin(), locations.end(), location, longer),
                     std::move(location));
}

std::size_t RouteTable::find_host(std::string_view host_header) const {
    std::string_view name = http::host_name(host_header);
    if (name.empty()) return default_host_;
    if (auto found = exact_.find(name); found != exact_.end()) return found->second;
    if (!wildcards_.empty()) {
        // Each suffix that starts at a dot, longest first: the first found is the longest
        // wildcard that matches. A dot at the start has no label before it, so it is skipped.
        for (std::size_t dot = name.find('.', 1); dot != std::string_view::npos;
             dot = name.find('.', dot + 1)) {
            if (auto found = wildcards_.find(name.substr(dot)); found != wildcards_.end()) {
                return found->second;
            }
        }
    }
    return default_host_;
}

std::size_t RouteTable::find_target(std::size_t host, std::string_view path) const {
    const Host& chosen = hosts_[host];
    for (const Location& location : chosen.locations) {
        if (path.size() >= location.prefix.size() &&
            path.compare(0, location.prefix.size(), location.prefix) == 0) {
            return location.target;
        }
    }
    return chosen.target;
}

std::size_t RouteTable::route(const http::Request& request) const {
    if (hosts_.empty()) return 0;
    std::size_t host = find_host(request.header("Host"));
    if (hosts_[host].locations.empty()) return hosts_[host].target;
    std::string_view raw = request.path();
    if (is_plain_path(raw)) return find_target(host, raw);
    std::optional<std::string> normalized = normalize_path(raw);
    if (!normalized) return hosts_[host].target;
    return find_target(host, *normalized);
}

HostRouter::HostRouter(std::shared_ptr<const RouteTable> table,
                       std::vector<std::unique_ptr<http::Handler>> targets)
    : table_(std::move(table)), targets_(std::move(targets)) {}

void HostRouter::handle(const http::Request& request, http::Response& response) {
    targets_[table_->route(request)]->handle(request, response);
}

bool HostRouter::answers_off_loop(const http::Request& request) const {
    return targets_[table_->route(request)]->answers_off_loop(request);
}

void HostRouter::on_loop_start(http::LoopContext& context) {
    for (auto& target : targets_) target->on_loop_start(context);
}

void HostRouter::on_loop_stop(http::LoopContext& context) {
    for (auto& target : targets_) target->on_loop_stop(context);
}

std::uint64_t HostRouter::body_limit(std::uint8_t listener) const {
    std::uint64_t limit = 0;
    for (const auto& target : targets_) limit = std::max(limit, target->body_limit(listener));
    return limit;
}

}  // namespace c10k::serve
