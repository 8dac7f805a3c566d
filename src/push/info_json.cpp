#include "push/info_json.hpp"

#include <fmt/format.h>

#include "core/json.hpp"

namespace c10k::push {

std::string channel_info_json(std::string_view channel, const Registry::Info& info) {
    return fmt::format(R"({{"channel":{},"subscribers":{},"last_id":"{}","messages":{}}})",
                       core::json_quote(channel), info.subscribers, info.last_id, info.messages);
}

std::string push_status_json(std::size_t channels, const RedisAddress* redis,
                             const BackplaneStats& stats) {
    std::string out = fmt::format(R"({{"channels":{})", channels);
    if (redis != nullptr) {
        out += fmt::format(
            R"(,"redis":{{"address":{},"commands_up":{},"subscriptions_up":{},"published":{},)"
            R"("publish_failed":{},"received":{},"duplicates":{},"gaps":{},"caught_up":{},)"
            R"("history_lost":{},"connection_losses":{}}})",
            core::json_quote(fmt::format("{}:{}", redis->host, redis->port)),
            stats.commands_up.load(), stats.subscriptions_up.load(), stats.published.load(),
            stats.publish_failed.load(), stats.received.load(), stats.duplicates.load(),
            stats.gaps.load(), stats.caught_up.load(), stats.history_lost.load(),
            stats.connection_losses.load());
    }
    out += "}";
    return out;
}

}  // namespace c10k::push
