#include "push_flags.hpp"

#include <charconv>
#include <chrono>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

#include <fmt/core.h>

#include "core/duration.hpp"
#include "push/handler.hpp"
#include "push/redis_probe.hpp"
#include "serve/demo_game.hpp"

namespace c10k::app {

namespace {

// The engines that drive deferred responses today: the readiness loop's (staged's loops are
// that loop too, and subscriptions stay on them), io_uring's and the thread engine's (each
// connection thread a loop of its own).
bool engine_drives_push(const std::string& engine) {
    return engine == "epoll" || engine == "epoll-lt" || engine == "poll" || engine == "select" ||
           engine == "sigio" || engine == "uring" || engine == "thread" || engine == "staged";
}

std::size_t parse_first(const std::string& text) {
    if (text == "none") return 0;
    if (text == "newest") return 1;
    std::size_t count = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (error != std::errc() || end != text.data() + text.size()) {
        throw std::runtime_error(
            fmt::format("--push-first: '{}' is not newest, none or a number of messages", text));
    }
    return count;
}

std::string read_password(const std::string& path) {
    std::ifstream file(path);
    std::string password;
    if (!file || !std::getline(file, password)) {
        throw std::runtime_error(fmt::format(
            "--redis-password-file: cannot read '{}' (it must hold the password on its first "
            "line)",
            path));
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
}

}  // namespace

std::int64_t push_duration_ms(const std::string& flag, const std::string& text) {
    std::int64_t us = 0;
    std::string error;
    if (!core::parse_duration_us(text, 1'000'000, us, error)) {
        throw std::runtime_error(fmt::format("{}: {}", flag, error));
    }
    return us / 1000;
}

void add_push_flags(CLI::App& cmd, PushFlags& flags) {
    cmd.add_option("--push", flags.prefixes,
                   "Serve live push under this URL prefix (repeatable), e.g. /live/: GET "
                   "/live/<channel> subscribes (SSE with Accept: text/event-stream, else "
                   "long-poll)");
    cmd.add_option("--publish-listen", flags.publish_listen,
                   "Address of the publish API (POST/GET/DELETE /pub/<channel>); never served "
                   "on the public --listen addresses")
        ->capture_default_str();
    cmd.add_option("--publish-token", flags.token,
                   "Require 'Authorization: Bearer TOKEN' to publish (default: none)");
    cmd.add_option("--push-history", flags.history,
                   "Messages each channel keeps for subscribers that resume with Last-Event-ID")
        ->capture_default_str();
    cmd.add_option("--push-history-age", flags.history_age,
                   "Drop kept messages older than this (0: no age limit)")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--push-first", flags.first,
                   "What a new subscriber without Last-Event-ID gets at once: newest, none, or "
                   "a number of the latest messages")
        ->capture_default_str();
    cmd.add_option("--push-heartbeat", flags.heartbeat,
                   "A comment line on SSE streams silent this long, so intermediaries keep them")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--push-long-poll-timeout", flags.long_poll_timeout,
                   "A long-poll with no message this long is answered 304")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--push-max-queue", flags.max_queue,
                   "Bytes a subscriber may have queued; past it the server closes it")
        ->capture_default_str();
    cmd.add_option("--push-max-message", flags.max_message,
                   "Largest message a publish may carry; larger gets 413")
        ->capture_default_str();
    cmd.add_option("--push-retry", flags.retry,
                   "The SSE retry field: how long browsers wait before reconnecting")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--redis", flags.redis,
                   "Share channels across servers through Redis: redis://[:PASSWORD@]HOST[:PORT]"
                   "[/DB]. Publishes go to a Redis Stream per channel (ids are the stream's ids, "
                   "so a client resumes on any server) and reach every server through Pub/Sub");
    cmd.add_option("--redis-prefix", flags.redis_prefix,
                   "Prefix of the stream keys and Pub/Sub channels in Redis")
        ->capture_default_str();
    cmd.add_option("--redis-password-file", flags.redis_password_file,
                   "Read the Redis password from this file (kept out of the process list)");
    cmd.add_option("--redis-timeout", flags.redis_timeout,
                   "Redis must connect, and answer pending commands, within this; otherwise the "
                   "connection is dropped and made again (publishes meanwhile get 503)")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_option("--redis-linger", flags.redis_linger,
                   "A channel with no subscriber on this server stays subscribed in Redis this "
                   "long (long-poll clients leave and come back with every message)")
        ->capture_default_str()
        ->type_name("DURATION");
    cmd.add_flag("--redis-require", flags.redis_require,
                 "Refuse to start unless Redis answers at start (default: start, retry in the "
                 "background, and answer publishes 503 until it is reached)");
    cmd.add_flag("--demo", flags.demo,
                 "The live scoreboard demo: --push /live/ with a game simulator publishing to "
                 "channel 'score'");
    cmd.add_option("--demo-interval", flags.demo_interval, "How often the demo game publishes")
        ->capture_default_str()
        ->type_name("DURATION");
}

std::shared_ptr<push::Hub> make_push_hub(PushFlags& flags, const std::string& engine, int loops,
                                         std::vector<core::Endpoint>& endpoints) {
    if (flags.demo) {
        if (flags.prefixes.empty()) flags.prefixes.push_back("/live/");
        if (flags.first == "none") flags.first = "newest";  // a new page shows the score at once
    }
    bool process_per_client = engine == "fork" || engine == "prefork";
    if (process_per_client && flags.redis.empty()) {
        throw std::runtime_error(fmt::format(
            "--push: engine {} gives each connection a process of its own, which no other "
            "process's publish reaches; give it --redis redis://HOST:PORT (each process then "
            "follows Redis for its client), or use an event engine (epoll, the default), with "
            "--processes N for several processes",
            engine));
    }
    if (!process_per_client && !engine_drives_push(engine)) {
        throw std::runtime_error(fmt::format(
            "--push: engine {} cannot hold push subscribers yet; use epoll, epoll-lt, poll, "
            "select, sigio, uring or thread",
            engine));
    }
    for (const auto& prefix : flags.prefixes) {
        if (prefix.size() < 2 || prefix.front() != '/' || prefix.back() != '/') {
            throw std::runtime_error(fmt::format(
                "--push: '{}' must be a URL path prefix that starts and ends with '/', e.g. "
                "/live/",
                prefix));
        }
    }
    push::PushOptions options;
    options.prefixes = flags.prefixes;
    options.token = flags.token;
    options.first_count = parse_first(flags.first);
    options.heartbeat_ms = push_duration_ms("--push-heartbeat", flags.heartbeat);
    options.long_poll_timeout_ms =
        push_duration_ms("--push-long-poll-timeout", flags.long_poll_timeout);
    options.retry_ms = push_duration_ms("--push-retry", flags.retry);
    if (options.heartbeat_ms <= 0) throw std::runtime_error("--push-heartbeat must be positive");
    if (options.long_poll_timeout_ms <= 0) {
        throw std::runtime_error("--push-long-poll-timeout must be positive");
    }
    if (flags.max_queue < 1024) {
        throw std::runtime_error("--push-max-queue must be at least 1024 bytes");
    }
    options.max_queue_bytes = flags.max_queue;
    options.max_message_bytes = flags.max_message;
    if (flags.demo) {
        // The demo's game: one play per publish, the whole scoreboard each time, so that a page
        // that joins late needs only the newest message.
        auto game = std::make_shared<serve::DemoGame>(static_cast<std::uint64_t>(
            std::chrono::system_clock::now().time_since_epoch().count()));
        push::PushOptions::Periodic periodic;
        periodic.channel = "score";
        periodic.content_type = "application/json";
        periodic.interval_ms = push_duration_ms("--demo-interval", flags.demo_interval);
        if (periodic.interval_ms <= 0) throw std::runtime_error("--demo-interval must be positive");
        periodic.next = [game] {
            std::string snapshot = game->snapshot_json();
            game->advance();
            return snapshot;
        };
        options.periodic = std::move(periodic);
    }
    if (options.max_message_bytes == 0) {
        throw std::runtime_error("--push-max-message must be at least 1 byte");
    }

    std::string error;
    if (!flags.redis.empty()) {
        auto address = push::parse_redis_url(flags.redis, error);
        if (!address) throw std::runtime_error("--redis: " + error);
        if (!flags.redis_password_file.empty()) {
            address->password = read_password(flags.redis_password_file);
        }
        if (flags.redis_prefix.empty() || flags.redis_prefix.size() > 64) {
            throw std::runtime_error("--redis-prefix must be 1 to 64 bytes, e.g. c10k:");
        }
        push::RedisBackplaneOptions redis;
        redis.address = std::move(*address);
        redis.prefix = flags.redis_prefix;
        std::int64_t timeout = push_duration_ms("--redis-timeout", flags.redis_timeout);
        if (timeout <= 0) throw std::runtime_error("--redis-timeout must be positive");
        redis.client.connect_timeout_ms = static_cast<std::uint64_t>(timeout);
        redis.client.reply_timeout_ms = static_cast<std::uint64_t>(timeout);
        options.redis = std::move(redis);
    } else if (flags.redis_require || !flags.redis_password_file.empty()) {
        throw std::runtime_error(
            "--redis-require and --redis-password-file need --redis redis://HOST:PORT");
    }

    core::Endpoint publish;
    if (!core::parse_endpoint(flags.publish_listen, publish, error)) {
        throw std::runtime_error("--publish-listen: " + error);
    }
    options.publish_listener = static_cast<int>(endpoints.size());
    endpoints.push_back(publish);

    push::RegistryOptions registry;
    registry.history.max_messages = flags.history;
    registry.history.max_age_ms = push_duration_ms("--push-history-age", flags.history_age);
    registry.loops = static_cast<std::size_t>(std::max(loops, 1));
    registry.external_linger_ms = push_duration_ms("--redis-linger", flags.redis_linger);
    if (registry.external_linger_ms < 0) throw std::runtime_error("--redis-linger: not negative");
    return std::make_shared<push::Hub>(std::move(options), registry);
}

void require_redis(const push::Hub& hub) {
    const push::RedisBackplaneOptions& redis = *hub.options().redis;
    std::string error = push::probe_redis(redis.address, redis.client.connect_timeout_ms);
    if (!error.empty()) {
        throw std::runtime_error(fmt::format(
            "--redis-require: {}; start Redis (or fix --redis), or leave out --redis-require to "
            "start anyway and connect when it is back",
            error));
    }
}

void join_push_group(push::Hub& hub, int slot, int processes) {
    if (hub.external()) {
        hub.set_process_index(static_cast<std::size_t>(slot));
        return;
    }
    // The supervisor's pid names the group: unique on the machine while it runs.
    hub.join_group(static_cast<std::size_t>(slot), fmt::format("c10k-push-{}", ::getppid()),
                   static_cast<std::size_t>(processes));
}

engine::HandlerFactory with_push(std::shared_ptr<push::Hub> hub, engine::HandlerFactory inner,
                                 std::shared_ptr<const websocket::ServerConfig> websocket) {
    return [hub, inner, websocket] {
        return std::make_unique<push::PushHandler>(hub, inner(), websocket);
    };
}

}  // namespace c10k::app
