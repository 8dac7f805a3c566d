#include "inetd/per_source.hpp"

namespace c10k::inetd {

bool PerSourceTable::try_add(const std::string& source) {
    if (limit_ != 0 && count(source) >= limit_) return false;
    ++running_[source];
    return true;
}

void PerSourceTable::remove(const std::string& source) {
    auto found = running_.find(source);
    if (found == running_.end()) return;
    if (--found->second == 0) running_.erase(found);
}

std::uint32_t PerSourceTable::count(const std::string& source) const {
    auto found = running_.find(source);
    return found == running_.end() ? 0 : found->second;
}

}  // namespace c10k::inetd
