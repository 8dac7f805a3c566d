#pragma once
// Virtual hosts and locations: which handler serves a request, chosen by its Host header and
// its path, as nginx chooses a `server` by `server_name` and a `location` by prefix:
//
// - Host: compared ignoring case, without its port and a trailing dot; exact names first, then
//   the longest matching leading wildcard ("*.example.org" takes a.example.org and
//   b.a.example.org, not example.org); no match, or no Host, goes to the default host.
// - Path: the host's location with the longest prefix of the request's decoded, normalised
//   path (so "/a/../downloads/x" and "/%64ownloads/x" are "/downloads/x", as for the file
//   handler); no location matches: the host's own handler.
//
// The table is built once at start and shared read-only by every loop; matching a plain path
// (the usual case) allocates nothing. The handlers it routes to are numbered "targets": what
// each number means (a static root, the server's own handler chain) is the builder's business.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/handler.hpp"

namespace c10k::serve {

/// Hosts, their names and locations, each leading to a target number.
class RouteTable {
public:
    /// Adds a host served by `target` where no location of it matches. `names` are lowercase,
    /// exact ("example.com", "[::1]") or wildcards ("*.example.org"); each name belongs to one
    /// host (the config loader refuses duplicates; here a later one is ignored). Returns the
    /// host's number, for add_location. The first host added is the default until
    /// set_default_host names another.
    std::size_t add_host(const std::vector<std::string>& names, std::size_t target);
    /// Requests to `host` whose path starts with `prefix` go to `target`, unless a longer
    /// prefix of the same host matches too.
    void add_location(std::size_t host, std::string prefix, std::size_t target);
    void set_default_host(std::size_t host) { default_host_ = host; }

    /// The host a Host header value chooses ("Example.COM:8080" finds example.com); the default
    /// host when none matches or the value is empty. Allocates nothing.
    std::size_t find_host(std::string_view host_header) const;
    /// The target of `path` (decoded and normalised) on `host`. Allocates nothing.
    std::size_t find_target(std::size_t host, std::string_view path) const;
    /// The target of a request, from its Host header and path. A path that is not already in
    /// normal form is normalised first (that alone allocates); one that cannot be (a malformed
    /// escape, ".." above the root) goes to the host's own target, which answers it (400).
    std::size_t route(const http::Request& request) const;

    std::size_t host_count() const { return hosts_.size(); }

private:
    struct Location {
        std::string prefix;
        std::size_t target = 0;
    };
    struct Host {
        std::size_t target = 0;
        std::vector<Location> locations;  ///< longest prefix first
    };
    /// Hashes and compares ASCII case-insensitively, so that a Host header is looked up as it
    /// came, without a lowercased copy (C++20 heterogeneous lookup).
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view name) const noexcept;
    };
    struct NameEqual {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const noexcept;
    };
    using NameMap = std::unordered_map<std::string, std::size_t, NameHash, NameEqual>;

    std::vector<Host> hosts_;
    NameMap exact_;
    NameMap wildcards_;  ///< by suffix with its leading dot: "*.example.org" as ".example.org"
    std::size_t default_host_ = 0;
};

/// One per loop: hands each request to the target handler its RouteTable chooses. Every target
/// is told of the loop's start and stop, so that one that serves deferred responses (push)
/// works behind the router as it does alone.
class HostRouter final : public http::Handler {
public:
    /// `targets[i]` is target i of `table`; every target the table names must be there.
    HostRouter(std::shared_ptr<const RouteTable> table,
               std::vector<std::unique_ptr<http::Handler>> targets);

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    /// The largest any target asks for: the body arrives before its request is routed.
    std::uint64_t body_limit(std::uint8_t listener) const override;
    /// As the target the request is routed to says (the table is immutable and shared).
    bool answers_off_loop(const http::Request& request) const override;

private:
    std::shared_ptr<const RouteTable> table_;
    std::vector<std::unique_ptr<http::Handler>> targets_;
};

}  // namespace c10k::serve
