#pragma once
// xinetd's `per_source`: how many programs run at once for one client address (the port left
// out, so that one host's many connections count together).

#include <cstdint>
#include <string>
#include <unordered_map>

namespace c10k::inetd {

class PerSourceTable {
public:
    /// `limit` 0: no limit (the table still counts, for the log).
    explicit PerSourceTable(std::uint32_t limit) : limit_(limit) {}

    /// Counts one more program for `source` and returns true, or returns false (and counts
    /// nothing) when `source` has `limit` running already.
    bool try_add(const std::string& source);
    /// One program of `source` ended. An address with none left is forgotten, so that the
    /// table holds only the addresses with programs running.
    void remove(const std::string& source);

    std::uint32_t count(const std::string& source) const;
    /// Addresses with at least one program running.
    std::size_t sources() const { return running_.size(); }
    std::uint32_t limit() const { return limit_; }

private:
    std::uint32_t limit_;
    std::unordered_map<std::string, std::uint32_t> running_;
};

}  // namespace c10k::inetd
