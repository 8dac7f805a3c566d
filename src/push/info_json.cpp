#include "push/info_json.hpp"

#include <fmt/format.h>

#include "core/json.hpp"

namespace c10k::push {

std::string channel_info_json(std::string_view channel, const Registry::Info& info) {
    return fmt::format(R"({{"channel":{},"subscribers":{},"last_id":"{}","messages":{}}})",
                       core::json_quote(channel), info.subscribers, info.last_id, info.messages);
}

}  // namespace c10k::push
