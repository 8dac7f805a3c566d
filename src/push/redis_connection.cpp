#include "push/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <fmt/format.h>

#include <memory>
#include <utility>

namespace c10k::push {

namespace {

// Once this much of output_ has been written, the written prefix is dropped rather than kept
// until everything is written, so that a connection that is always busy does not grow.
constexpr std::size_t kOutputCompactBytes = 64 * 1024;

RedisReply copy_reply(const redisReply& from) {
    RedisReply to;
    switch (from.type) {
        case REDIS_REPLY_STRING:
            to.type = RedisReply::Type::string;
            to.text.assign(from.str, from.len);
            break;
        case REDIS_REPLY_STATUS:
            to.type = RedisReply::Type::status;
            to.text.assign(from.str, from.len);
            break;
        case REDIS_REPLY_ERROR:
            to.type = RedisReply::Type::error;
            to.text.assign(from.str, from.len);
            break;
        case REDIS_REPLY_INTEGER:
            to.type = RedisReply::Type::integer;
            to.integer = from.integer;
            break;
        case REDIS_REPLY_ARRAY:
            to.type = RedisReply::Type::array;
            to.elements.reserve(from.elements);
            for (std::size_t i = 0; i < from.elements; ++i) {
                to.elements.push_back(copy_reply(*from.element[i]));
            }
            break;
        default:
            to.type = RedisReply::Type::nil;
            break;
    }
    return to;
}

bool is_string(const redisReply& reply) {
    return reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS;
}

std::string_view text_of(const redisReply& reply) {
    return std::string_view(reply.str, reply.len);
}

/// The first element of a three-element array whose first element is a string ("message",
/// "subscribe", ...), the shape of every Pub/Sub push; empty otherwise.
std::string_view push_kind(const redisReply& reply) {
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 3 || !is_string(*reply.element[0])) {
        return {};
    }
    return text_of(*reply.element[0]);
}

struct ReplyDeleter {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

}  // namespace

RedisConnection::RedisConnection(RedisLimits limits)
    : limits_(limits), reader_(redisReaderCreate()) {
    if (reader_ == nullptr) fail("redis: out of memory for the reply reader");
}

RedisConnection::~RedisConnection() {
    if (reader_ != nullptr) redisReaderFree(reader_);
}

bool RedisConnection::command(std::span<const std::string_view> args, RedisCallback callback) {
    return send(args, Pending{std::move(callback), 0});
}

bool RedisConnection::subscribe(std::span<const std::string_view> channels, RedisCallback done) {
    return subscription("SUBSCRIBE", channels, std::move(done));
}

bool RedisConnection::unsubscribe(std::span<const std::string_view> channels, RedisCallback done) {
    return subscription("UNSUBSCRIBE", channels, std::move(done));
}

bool RedisConnection::subscription(std::string_view verb,
                                   std::span<const std::string_view> channels, RedisCallback done) {
    if (channels.empty()) {
        fail(fmt::format("redis: {} needs at least one channel", verb));
        return false;
    }
    std::vector<std::string_view> args;
    args.reserve(channels.size() + 1);
    args.push_back(verb);
    args.insert(args.end(), channels.begin(), channels.end());
    // The server confirms each channel apart, in order.
    return send(args, Pending{std::move(done), channels.size()});
}

bool RedisConnection::send(std::span<const std::string_view> args, Pending pending) {
    if (failed_) return false;
    if (args.empty()) {
        fail("redis: an empty command");
        return false;
    }
    if (pending_.size() >= limits_.max_pending) {
        fail(fmt::format("redis: more than {} commands waiting for replies", limits_.max_pending));
        return false;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (std::string_view arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                        lengths.data());
    if (length < 0) {
        fail("redis: out of memory formatting a command");
        return false;
    }
    std::unique_ptr<char, decltype(&redisFreeCommand)> owned(formatted, &redisFreeCommand);
    if (output().size() + static_cast<std::size_t>(length) > limits_.max_output_bytes) {
        fail(fmt::format("redis: more than {} bytes of commands the socket has not taken",
                         limits_.max_output_bytes));
        return false;
    }
    output_.append(formatted, static_cast<std::size_t>(length));
    pending_.push_back(std::move(pending));
    return true;
}

void RedisConnection::consume_output(std::size_t bytes) {
    output_sent_ += std::min(bytes, output_.size() - output_sent_);
    if (output_sent_ == output_.size()) {
        output_.clear();
        output_sent_ = 0;
    } else if (output_sent_ >= kOutputCompactBytes && output_sent_ * 2 >= output_.size()) {
        output_.erase(0, output_sent_);
        output_sent_ = 0;
    }
}

bool RedisConnection::feed(std::string_view bytes) {
    if (failed_) return false;
    if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) {
        fail("redis: out of memory buffering a reply");
        return false;
    }
    for (;;) {
        void* object = nullptr;
        if (redisReaderGetReply(reader_, &object) != REDIS_OK) {
            fail(fmt::format(
                "redis: protocol error: the server sent something that is not RESP ({})",
                reader_->errstr));
            return false;
        }
        if (object == nullptr) break;
        std::unique_ptr<redisReply, ReplyDeleter> reply(static_cast<redisReply*>(object));
        ++received_;
        // A callback may have failed the connection: nothing more is handed out then.
        if (!dispatch(*reply) || failed_) return false;
    }
    // What is left unparsed is the start of a reply not yet complete: a server that announces
    // a huge one (or never ends it) is stopped here rather than buffered without bound.
    std::size_t unparsed = reader_->len - reader_->pos;
    if (unparsed > limits_.max_unparsed_bytes) {
        fail(fmt::format("redis: a reply larger than {} bytes", limits_.max_unparsed_bytes));
        return false;
    }
    return true;
}

bool RedisConnection::dispatch(const redisReply& reply) {
    std::string_view kind = push_kind(reply);
    // Only a subscribed connection gets pushes; otherwise an array such as LRANGE's
    // ["message", "a", "b"] is an ordinary reply.
    if (kind == "message" && subscriptions_ > 0) {
        if (!is_string(*reply.element[1]) || !is_string(*reply.element[2])) {
            fail("redis: protocol error: a message whose channel or payload is not a string");
            return false;
        }
        if (on_message_) on_message_(text_of(*reply.element[1]), text_of(*reply.element[2]));
        return true;
    }
    if (pending_.empty()) {
        fail("redis: the server sent a reply to no command");
        return false;
    }
    Pending& head = pending_.front();
    bool confirmation = (kind == "subscribe" || kind == "unsubscribe") &&
                        reply.element[2]->type == REDIS_REPLY_INTEGER;
    if (head.confirmations > 0) {
        // A subscription is answered by its confirmations, or by the one error that refused
        // it. Anything else here (a subscribe-mode ["pong", ""] among them) belongs to a later
        // command: the replies are out of step with the commands, and handing it to this one
        // would end the subscription early and shift every answer after it.
        if (!confirmation && reply.type != REDIS_REPLY_ERROR) {
            fail("redis: protocol error: a reply where a subscription's confirmation was due");
            return false;
        }
        if (confirmation) {
            subscriptions_ = reply.element[2]->integer;
            if (on_subscription_) {
                on_subscription_(kind == "subscribe", text_of(*reply.element[1]), subscriptions_);
            }
            if (--head.confirmations > 0) return true;
        }
    }
    // The head is answered (a command's reply, a subscription's last confirmation, or the
    // error that refused it): take it off the queue before its callback can queue more. In
    // subscribe mode a PING's reply is the array ["pong", argument], not a push: it arrives in
    // its turn and goes to the PING here like any reply.
    Pending answered = std::move(pending_.front());
    pending_.pop_front();
    if (answered.callback) answered.callback(copy_reply(reply));
    return true;
}

void RedisConnection::fail(std::string_view reason) {
    if (failed_) return;
    failed_ = true;
    failure_ = reason;
    subscriptions_ = 0;
    output_.clear();
    output_sent_ = 0;
    RedisReply failed;
    failed.type = RedisReply::Type::failed;
    failed.text = failure_;
    // Moved out first: a callback that queues a command is refused, never added to this list.
    std::deque<Pending> told = std::move(pending_);
    pending_.clear();
    for (Pending& each : told) {
        if (each.callback) each.callback(failed);
    }
}

}  // namespace c10k::push
