#include "push/redis_probe.hpp"

#include <fmt/format.h>

#include "http/poll_loop.hpp"
#include "push/redis_client.hpp"

namespace c10k::push {

std::string probe_redis(const RedisAddress& address, std::uint64_t timeout_ms) {
    http::PollLoop loop;
    RedisClientOptions options;
    options.connect_timeout_ms = timeout_ms;
    options.reply_timeout_ms = timeout_ms;
    RedisClient client(address, loop.context(), options);
    std::string failure;
    bool answered = false;
    client.set_lost_handler([&](std::string_view why) {
        if (failure.empty()) failure = std::string(why);
    });
    client.set_ready_handler([&] {
        client.connection()->command({"PING"}, [&](const RedisReply& reply) {
            if (reply.is_error()) {
                failure = fmt::format("PING was answered '{}'", reply.text);
            } else {
                answered = true;
            }
        });
        client.flush();
    });
    client.start();
    // Rounds of at most 10 ms: the bound covers the timeout with room for the reply.
    int rounds = static_cast<int>(timeout_ms / 10) + 50;
    loop.run_until([&] { client.on_tick(); }, [&] { return answered || !failure.empty(); }, rounds);
    client.stop();
    if (answered) return {};
    if (failure.empty()) {
        failure = fmt::format("no answer within {} ms", timeout_ms);
    }
    return fmt::format("Redis at {}:{} did not answer: {}", address.host, address.port, failure);
}

}  // namespace c10k::push
