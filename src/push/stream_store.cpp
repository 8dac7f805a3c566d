#include "push/stream_store.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <memory>
#include <utility>

namespace c10k::push {

namespace {

constexpr std::uint64_t kSeqLimit = 1'000'000;
/// SUBSCRIBE / UNSUBSCRIBE carry at most this many channels, so that a server holding many
/// channels sends a few commands of bounded size after a reconnect rather than one huge one.
constexpr std::size_t kChannelsPerCommand = 512;
/// An abandoned channel's stream expires this long after its age bound has passed since the
/// last publish: late enough that a channel that is merely quiet keeps its last id (and so its
/// prev chain) for a while, soon enough that Redis does not fill with dead channels.
constexpr std::int64_t kExpiryGraceMs = 3'600'000;

// Publishes one message. KEYS[1] the stream and Pub/Sub channel; ARGV: MAXLEN, the age bound
// in ms (0: none), the key's expiry in ms, event, content type, data. The stream's
// last-generated-id (not its last entry's id, which a trim or XDEL could have removed) is the
// new message's prev; a missing key starts the chain again from 0-0. Returns {id, prev,
// receivers}, the ids as stream ids: Lua's numbers are doubles and cannot hold a packed id.
constexpr std::string_view kPublishScript = R"lua(
local key = KEYS[1]
local prev = '0-0'
if redis.call('EXISTS', key) == 1 then
    local info = redis.call('XINFO', 'STREAM', key)
    for i = 1, #info, 2 do
        if info[i] == 'last-generated-id' then
            prev = info[i + 1]
            break
        end
    end
end
local id = redis.call('XADD', key, 'MAXLEN', '~', ARGV[1], '*',
                      'p', prev, 'e', ARGV[4], 't', ARGV[5], 'd', ARGV[6])
local age = tonumber(ARGV[2])
if age > 0 then
    local oldest = tonumber(string.match(id, '^(%d+)-')) - age
    if oldest > 0 then
        redis.call('XTRIM', key, 'MINID', '~', string.format('%d', oldest))
    end
    redis.call('PEXPIRE', key, ARGV[3])
end
local payload = 'M ' .. id .. ' ' .. prev .. '\n' .. ARGV[4] .. '\n' .. ARGV[5] .. '\n' .. ARGV[6]
local receivers = redis.call('PUBLISH', key, payload)
return {id, prev, receivers}
)lua";

// Reads a stream. KEYS[1]; ARGV: "newest" or "after", COUNT, the id to read after. Returns {0}
// when the key does not exist, else {1, last-generated-id, entries}; "newest" entries come
// newest first (XREVRANGE). One script, so that the last id and the entries agree.
constexpr std::string_view kFetchScript = R"lua(
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
    return {0}
end
local info = redis.call('XINFO', 'STREAM', key)
local last = '0-0'
for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
        last = info[i + 1]
        break
    end
end
local entries = {}
if tonumber(ARGV[2]) > 0 then
    if ARGV[1] == 'newest' then
        entries = redis.call('XREVRANGE', key, '+', '-', 'COUNT', ARGV[2])
    else
        entries = redis.call('XRANGE', key, '(' .. ARGV[3], '+', 'COUNT', ARGV[2])
    end
end
return {1, last, entries}
)lua";

// Removes a channel: DEL, then the removed notice. Returns {existed, receivers}.
constexpr std::string_view kRemoveScript = R"lua(
local existed = redis.call('DEL', KEYS[1])
local receivers = redis.call('PUBLISH', KEYS[1], 'D')
return {existed, receivers}
)lua";

std::optional<std::uint64_t> parse_digits(std::string_view text) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
    return value;
}

/// Splits off the text up to `separator` (which is consumed); nullopt when there is none.
std::optional<std::string_view> take_until(std::string_view& text, char separator) {
    std::size_t at = text.find(separator);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view head = text.substr(0, at);
    text.remove_prefix(at + 1);
    return head;
}

std::int64_t ms_of(std::uint64_t id) {
    return static_cast<std::int64_t>(id / kSeqLimit);
}

bool is_string(const RedisReply& reply) {
    return reply.type == RedisReply::Type::string;
}

/// One XRANGE entry [id, [field, value, ...]] as a Message; null when it is not one of ours.
MessagePtr entry_message(const RedisReply& entry) {
    if (entry.type != RedisReply::Type::array || entry.elements.size() != 2 ||
        !is_string(entry.elements[0]) || entry.elements[1].type != RedisReply::Type::array) {
        return nullptr;
    }
    std::optional<std::uint64_t> id = parse_stream_id(entry.elements[0].text);
    if (!id || *id == 0) return nullptr;
    auto message = std::make_shared<Message>();
    message->id = *id;
    message->published_ms = ms_of(*id);
    bool has_prev = false;
    bool has_data = false;
    const std::vector<RedisReply>& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (!is_string(fields[i]) || !is_string(fields[i + 1])) return nullptr;
        const std::string& name = fields[i].text;
        const std::string& value = fields[i + 1].text;
        if (name == "p") {
            std::optional<std::uint64_t> prev = parse_stream_id(value);
            if (!prev || *prev >= *id) return nullptr;
            message->prev_id = *prev;
            has_prev = true;
        } else if (name == "e") {
            message->event = value;
        } else if (name == "t") {
            message->content_type = value;
        } else if (name == "d") {
            message->data = value;
            has_data = true;
        }
    }
    if (!has_prev || !has_data) return nullptr;
    return message;
}

RedisReply failed_reply(std::string text) {
    RedisReply reply;
    reply.type = RedisReply::Type::failed;
    reply.text = std::move(text);
    return reply;
}

}  // namespace

std::optional<std::uint64_t> parse_stream_id(std::string_view text) {
    std::size_t dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::optional<std::uint64_t> ms = parse_digits(text.substr(0, dash));
    std::optional<std::uint64_t> seq = parse_digits(text.substr(dash + 1));
    if (!ms || !seq || *seq >= kSeqLimit) return std::nullopt;
    if (*ms > (UINT64_MAX - *seq) / kSeqLimit) return std::nullopt;
    return *ms * kSeqLimit + *seq;
}

std::string format_stream_id(std::uint64_t id) {
    return std::to_string(id / kSeqLimit) + '-' + std::to_string(id % kSeqLimit);
}

std::string encode_message_payload(const Message& message) {
    std::string payload =
        "M " + format_stream_id(message.id) + ' ' + format_stream_id(message.prev_id) + '\n';
    payload += message.event;
    payload += '\n';
    payload += message.content_type;
    payload += '\n';
    payload += message.data;
    return payload;
}

std::string_view removed_payload() {
    return "D";
}

std::optional<StreamNotice> decode_payload(std::string_view payload) {
    StreamNotice notice;
    if (payload == removed_payload()) {
        notice.kind = StreamNotice::Kind::removed;
        return notice;
    }
    if (!payload.starts_with("M ")) return std::nullopt;
    payload.remove_prefix(2);
    std::optional<std::string_view> id_text = take_until(payload, ' ');
    std::optional<std::string_view> prev_text = take_until(payload, '\n');
    std::optional<std::string_view> event = take_until(payload, '\n');
    std::optional<std::string_view> content_type = take_until(payload, '\n');
    if (!id_text || !prev_text || !event || !content_type) return std::nullopt;
    std::optional<std::uint64_t> id = parse_stream_id(*id_text);
    std::optional<std::uint64_t> prev = parse_stream_id(*prev_text);
    if (!id || !prev || *id == 0 || *prev >= *id) return std::nullopt;
    notice.kind = StreamNotice::Kind::message;
    notice.message.id = *id;
    notice.message.prev_id = *prev;
    notice.message.event = *event;
    notice.message.content_type = *content_type;
    notice.message.data = payload;
    notice.message.published_ms = ms_of(*id);
    return notice;
}

StreamStore::StreamStore(RedisAddress address, http::LoopContext& context,
                         StreamStoreOptions options)
    : context_(context),
      options_(std::move(options)),
      commands_(address, context, options_.client),
      subscriptions_(std::move(address), context, options_.client),
      publish_script_{kPublishScript, {}},
      fetch_script_{kFetchScript, {}},
      remove_script_{kRemoveScript, {}} {
    // The ready handlers run inside the PING reply's callback, i.e. while the connection is
    // feeding: counted like every other callback of that connection.
    commands_.set_ready_handler([this] {
        Depth depth(commands_depth_);
        on_commands_ready();
    });
    commands_.set_lost_handler([this](std::string_view why) {
        commands_down_why_ = why;
        report_state(why);
    });
    subscriptions_.set_ready_handler([this] {
        Depth depth(subscriptions_depth_);
        on_subscriptions_ready();
    });
    subscriptions_.set_lost_handler([this](std::string_view why) { on_subscriptions_lost(why); });
}

StreamStore::~StreamStore() {
    stop();
}

void StreamStore::start() {
    stopped_ = false;
    commands_down_why_ = "redis: not connected yet";
    commands_.start();
    subscriptions_.start();
}

void StreamStore::stop() {
    if (stopped_) return;
    stopped_ = true;
    commands_down_why_ = "redis: the store stopped";
    sent_.clear();
    commands_.stop();
    subscriptions_.stop();
}

void StreamStore::on_tick() {
    if (stopped_) return;
    commands_.on_tick();
    subscriptions_.on_tick();
}

void StreamStore::report_state(std::string_view why) {
    if (on_state_) on_state_(commands_.ready(), subscriptions_.ready(), why);
}

void StreamStore::flush_commands() {
    if (commands_depth_ == 0) commands_.flush();
}

void StreamStore::flush_subscriptions() {
    if (subscriptions_depth_ == 0) subscriptions_.flush();
}

void StreamStore::warn(std::string_view what, std::string_view detail) {
    std::uint64_t suppressed = log_.suppressed();  // allow() starts the count again
    if (!log_.allow(context_.now_ms())) return;
    core::log(core::LogLevel::warn, "push: redis stream store: {} ({}; {} before it suppressed)",
              what, detail, suppressed);
}

std::optional<std::string_view> StreamStore::channel_of(std::string_view key) const {
    if (!key.starts_with(options_.prefix)) return std::nullopt;
    return key.substr(options_.prefix.size());
}

// ---- commands ----------------------------------------------------------------------------

void StreamStore::on_commands_ready() {
    // Loaded on every connection, ahead of every command queued after it: a Redis that
    // restarted has an empty script cache, and EVALSHA then finds the script all the same.
    RedisConnection* connection = commands_.connection();
    for (Script* script : {&publish_script_, &fetch_script_, &remove_script_}) {
        connection->command({"SCRIPT", "LOAD", script->body},
                            [this, script](const RedisReply& reply) {
                                if (is_string(reply)) {
                                    script->sha = reply.text;
                                } else if (reply.type == RedisReply::Type::error) {
                                    warn("SCRIPT LOAD refused", reply.text);
                                }
                            });
    }
    report_state("");
}

void StreamStore::run_script(Script& script, std::vector<std::string> args, ScriptDone done) {
    RedisConnection* connection = commands_.connection();
    if (connection == nullptr) {
        done(failed_reply(commands_down_why_), args, false);
        return;
    }
    auto call = std::make_shared<ScriptCall>(ScriptCall{std::move(args), std::move(done)});
    send_script(*connection, script, !script.sha.empty(), call);
    flush_commands();
}

void StreamStore::send_script(RedisConnection& connection, Script& script, bool by_sha,
                              const std::shared_ptr<ScriptCall>& call) {
    std::vector<std::string_view> argv;
    argv.reserve(call->args.size() + 3);
    argv.push_back(by_sha ? "EVALSHA" : "EVAL");
    argv.push_back(by_sha ? std::string_view(script.sha) : script.body);
    argv.push_back("1");  // KEYS[1] is the first argument; the others are ARGV
    argv.insert(argv.end(), call->args.begin(), call->args.end());
    auto answered = [this, &script, by_sha, call](const RedisReply& reply) {
        Depth depth(commands_depth_);
        // A server that lost its script cache (SCRIPT FLUSH, a failover to a replica that
        // never loaded it) is sent the script itself, which EVAL also caches.
        if (by_sha && reply.type == RedisReply::Type::error && reply.text.starts_with("NOSCRIPT")) {
            if (RedisConnection* connection = commands_.connection(); connection != nullptr) {
                send_script(*connection, script, false, call);
                return;
            }
        }
        call->done(reply, call->args, true);
    };
    if (!connection.command(argv, answered)) {
        // Refused (the connection failed, or a limit failed it now): told here, as the
        // connection never will.
        call->done(failed_reply(connection.failed() ? connection.failure() : commands_down_why_),
                   call->args, false);
    }
}

void StreamStore::publish(std::string_view channel, std::string_view event, std::string_view data,
                          std::string_view content_type,
                          std::function<void(const Published&)> done) {
    // Bounded so that the expiry below cannot overflow; a century is "no expiry" in practice.
    std::int64_t age = std::clamp<std::int64_t>(options_.history.max_age_ms, 0,
                                                std::int64_t{100} * 365 * 24 * 3'600'000);
    std::size_t max_messages = std::max<std::size_t>(options_.history.max_messages, 1);
    std::vector<std::string> args = {options_.prefix + std::string(channel),
                                     std::to_string(max_messages),
                                     std::to_string(age),
                                     std::to_string(age + kExpiryGraceMs),
                                     std::string(event),
                                     std::string(content_type),
                                     std::string(data)};
    run_script(publish_script_, std::move(args),
               [done = std::move(done)](const RedisReply& reply, std::vector<std::string>& args,
                                        bool sent) {
                   Published result;
                   const std::vector<RedisReply>& parts = reply.elements;
                   if (reply.is_error()) {
                       result.error = reply.text;
                       result.unknown = sent && reply.type == RedisReply::Type::failed;
                   } else if (reply.type != RedisReply::Type::array || parts.size() != 3 ||
                              !is_string(parts[0]) || !is_string(parts[1]) ||
                              parts[2].type != RedisReply::Type::integer) {
                       result.error = "redis: an unexpected reply to the publish script";
                   } else {
                       std::optional<std::uint64_t> id = parse_stream_id(parts[0].text);
                       std::optional<std::uint64_t> prev = parse_stream_id(parts[1].text);
                       if (!id || !prev) {
                           result.error =
                               "redis: an unexpected id from the publish script: " + parts[0].text +
                               " after " + parts[1].text;
                       } else {
                           auto message = std::make_shared<Message>();
                           message->id = *id;
                           message->prev_id = *prev;
                           message->event = std::move(args[4]);
                           message->content_type = std::move(args[5]);
                           message->data = std::move(args[6]);
                           message->published_ms = ms_of(*id);
                           result.ok = true;
                           result.message = std::move(message);
                           result.receivers = parts[2].integer;
                       }
                   }
                   done(result);
               });
}

void StreamStore::load(std::string_view channel, std::size_t count,
                       std::function<void(const Loaded&)> done) {
    fetch(channel, true, 0, count, std::move(done));
}

void StreamStore::fetch_after(std::string_view channel, std::uint64_t after_id, std::size_t count,
                              std::function<void(const Loaded&)> done) {
    fetch(channel, false, after_id, count, std::move(done));
}

void StreamStore::fetch(std::string_view channel, bool newest, std::uint64_t after_id,
                        std::size_t count, std::function<void(const Loaded&)> done) {
    // COUNT is a signed 64-bit number to Redis.
    count = std::min<std::size_t>(count, LLONG_MAX);
    std::vector<std::string> args = {options_.prefix + std::string(channel),
                                     newest ? "newest" : "after", std::to_string(count),
                                     format_stream_id(after_id)};
    std::string name(channel);
    run_script(fetch_script_, std::move(args),
               [this, newest, name = std::move(name), done = std::move(done)](
                   const RedisReply& reply, std::vector<std::string>&, bool) {
                   Loaded result;
                   const std::vector<RedisReply>& parts = reply.elements;
                   bool shaped = reply.type == RedisReply::Type::array && !parts.empty() &&
                                 parts[0].type == RedisReply::Type::integer;
                   bool exists = shaped && parts[0].integer == 1;
                   if (reply.is_error()) {
                       result.error = reply.text;
                       done(result);
                       return;
                   }
                   if (!shaped || (exists && (parts.size() != 3 || !is_string(parts[1]) ||
                                              parts[2].type != RedisReply::Type::array))) {
                       result.error = "redis: an unexpected reply to the fetch script";
                       done(result);
                       return;
                   }
                   result.ok = true;
                   if (exists) {
                       result.exists = true;
                       result.last_id = parse_stream_id(parts[1].text).value_or(0);
                       std::size_t skipped = 0;
                       for (const RedisReply& entry : parts[2].elements) {
                           if (MessagePtr message = entry_message(entry)) {
                               result.messages.push_back(std::move(message));
                           } else {
                               ++skipped;
                           }
                       }
                       if (skipped > 0) {
                           warn("stream entries that are not messages were skipped",
                                options_.prefix + name);
                       }
                       if (newest) std::reverse(result.messages.begin(), result.messages.end());
                   }
                   done(result);
               });
}

void StreamStore::remove(std::string_view channel,
                         std::function<void(const StoreResult&, bool existed)> done) {
    run_script(remove_script_, {options_.prefix + std::string(channel)},
               [done = std::move(done)](const RedisReply& reply, std::vector<std::string>&, bool) {
                   StoreResult result;
                   bool existed = false;
                   const std::vector<RedisReply>& parts = reply.elements;
                   if (reply.is_error()) {
                       result.error = reply.text;
                   } else if (reply.type != RedisReply::Type::array || parts.size() != 2 ||
                              parts[0].type != RedisReply::Type::integer) {
                       result.error = "redis: an unexpected reply to the remove script";
                   } else {
                       result.ok = true;
                       existed = parts[0].integer > 0;
                   }
                   done(result, existed);
               });
}

// ---- subscriptions -------------------------------------------------------------------------

void StreamStore::on_subscriptions_ready() {
    RedisConnection* connection = subscriptions_.connection();
    connection->set_message_handler([this](std::string_view key, std::string_view payload) {
        Depth depth(subscriptions_depth_);
        on_payload(key, payload);
    });
    connection->set_subscription_handler([this](bool subscribed, std::string_view key, long long) {
        Depth depth(subscriptions_depth_);
        on_confirmation(subscribed, key);
    });
    // A new connection is subscribed to nothing: every wanted channel again, and each is
    // reported when confirmed, since its messages published meanwhile were missed.
    sent_.clear();
    send_subscription(true, std::vector<std::string>(wanted_.begin(), wanted_.end()));
    report_state("");
}

void StreamStore::on_subscriptions_lost(std::string_view why) {
    sent_.clear();
    report_state(why);
}

void StreamStore::subscribe(std::string_view channel) {
    if (!wanted_.emplace(channel).second) return;
    if (!subscriptions_.ready()) return;  // sent with the others once it is
    send_subscription(true, {std::string(channel)});
    flush_subscriptions();
}

void StreamStore::unsubscribe(std::string_view channel) {
    auto found = wanted_.find(channel);
    if (found == wanted_.end()) return;
    wanted_.erase(found);
    if (!subscriptions_.ready()) return;
    send_subscription(false, {std::string(channel)});
    flush_subscriptions();
}

void StreamStore::send_subscription(bool subscribe, const std::vector<std::string>& channels) {
    RedisConnection* connection = subscriptions_.connection();
    if (connection == nullptr) return;
    std::vector<std::string> keys;
    auto send_batch = [&] {
        if (keys.empty()) return;
        std::vector<std::string_view> views(keys.begin(), keys.end());
        RedisCallback done = [this, subscribe](const RedisReply& reply) {
            if (reply.type == RedisReply::Type::error) {
                warn(subscribe ? "SUBSCRIBE refused" : "UNSUBSCRIBE refused", reply.text);
            }
        };
        // A refusal fails the connection, which the client notices on its next flush.
        if (subscribe) {
            connection->subscribe(views, std::move(done));
        } else {
            connection->unsubscribe(views, std::move(done));
        }
        keys.clear();
    };
    for (const std::string& channel : channels) {
        // Only what changes the server's state is sent: a SUBSCRIBE for a channel not already
        // subscribed, an UNSUBSCRIBE for one that is (or is about to be).
        if (subscribe ? !sent_.insert(channel).second : sent_.erase(channel) == 0) continue;
        keys.push_back(options_.prefix + channel);
        if (keys.size() == kChannelsPerCommand) send_batch();
    }
    send_batch();
}

void StreamStore::on_confirmation(bool subscribed, std::string_view key) {
    if (!subscribed) return;
    std::optional<std::string_view> channel = channel_of(key);
    if (!channel) return;
    if (!wanted_.contains(*channel)) {
        // Not wanted any more: an UNSUBSCRIBE went out when it stopped being wanted, unless
        // the server subscribed it some other way; then one goes now.
        if (sent_.contains(*channel)) send_subscription(false, {std::string(*channel)});
        return;
    }
    if (!sent_.contains(*channel)) return;
    if (on_subscribed_) on_subscribed_(*channel);
}

void StreamStore::on_payload(std::string_view key, std::string_view payload) {
    std::optional<std::string_view> channel = channel_of(key);
    if (!channel || !wanted_.contains(*channel)) return;
    std::optional<StreamNotice> notice = decode_payload(payload);
    if (!notice) {
        warn("a malformed Pub/Sub payload was dropped",
             std::string(key) + ", " + std::to_string(payload.size()) + " bytes");
        return;
    }
    if (notice->kind == StreamNotice::Kind::removed) {
        if (on_removed_) on_removed_(*channel);
        return;
    }
    if (on_message_)
        on_message_(*channel, std::make_shared<const Message>(std::move(notice->message)));
}

}  // namespace c10k::push
