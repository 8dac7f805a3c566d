#include "http/request.hpp"

#include "core/text.hpp"

namespace c10k::http {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        unsigned char x = static_cast<unsigned char>(a[i]);
        unsigned char y = static_cast<unsigned char>(b[i]);
        if (x == y) continue;
        if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
    }
    return true;
}

std::string_view host_name(std::string_view value) {
    value = core::trim_ows(value);
    if (!value.empty() && value.front() == '[') {
        std::size_t close = value.find(']');
        return close == std::string_view::npos ? value : value.substr(0, close + 1);
    }
    std::size_t colon = value.find(':');
    if (colon != std::string_view::npos) value = value.substr(0, colon);
    if (!value.empty() && value.back() == '.') value.remove_suffix(1);
    return value;
}

std::string_view Request::header(std::string_view name) const {
    for (const Header& h : headers) {
        if (iequals(h.name, name)) return h.value;
    }
    return {};
}

bool Request::has_header(std::string_view name) const {
    for (const Header& h : headers) {
        if (iequals(h.name, name)) return true;
    }
    return false;
}

std::string_view Request::path() const {
    auto q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view Request::query() const {
    auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

}  // namespace c10k::http
