#pragma once
// One connection to Redis, sans-I/O (like http::Session): the owner feeds it the bytes it read
// from the socket and writes the bytes it asks for. It never touches a descriptor, so the
// backplane runs on every engine and never blocks a loop, and its tests need no socket.
//
// Commands are formatted with hiredis's redisFormatCommandArgv (arguments are binary-safe) and
// pipelined: each goes out at once, behind those still unanswered. Replies are parsed with
// hiredis's reader and each is handed to the callback of the command it answers, in order.
// hiredis's own async context is not used: it reads at most 16 KiB per call, which starves an
// edge-triggered loop, and it wants to own the socket.
//
// Pub/Sub: subscribe() puts the connection in subscribe mode; "message" pushes then go to the
// message handler and subscribe/unsubscribe confirmations to the subscription handler. In that
// mode Redis (RESP2) answers PING with the array ["pong", argument] instead of +PONG: it is
// handed to the PING's callback as it came, so that a keepalive works on a subscribed connection.
//
// Failure is final: garbage from the server, a limit passed, or fail() (the owner lost the
// socket) tells every pending callback, and the owner makes a new connection to go on.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;
struct redisReply;

namespace c10k::push {

/// A reply, copied out of hiredis's objects so that callers need no hiredis header.
struct RedisReply {
    enum class Type {
        string,   ///< a bulk string: `text`
        array,    ///< `elements`
        integer,  ///< `integer`
        nil,      ///< a null bulk string or array
        status,   ///< a simple string such as OK: `text`
        error,    ///< an error reply from the server: `text`
        failed,   ///< no reply will come: the connection failed (`text` says why)
    };
    Type type = Type::nil;
    long long integer = 0;
    std::string text;
    std::vector<RedisReply> elements;

    /// True for an error reply and for a connection that failed before answering.
    bool is_error() const { return type == Type::error || type == Type::failed; }
};

/// Called once per command: with its reply, or with a `failed` reply if none will come.
using RedisCallback = std::function<void(const RedisReply&)>;
/// A published message seen by a subscribed connection.
using RedisMessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;
/// A subscribe or unsubscribe confirmation: `subscribed` is true for subscribe, `count` is the
/// number of channels the connection is subscribed to afterwards.
using RedisSubscriptionHandler =
    std::function<void(bool subscribed, std::string_view channel, long long count)>;

/// Bounds on what one connection holds, so that a slow or hostile server cannot grow the
/// process without limit. Passing one fails the connection with a reason.
struct RedisLimits {
    /// Bytes of a reply not yet complete (the reader's unparsed buffer).
    std::size_t max_unparsed_bytes = 64 << 20;
    /// Commands sent and not yet answered.
    std::size_t max_pending = 100'000;
    /// Formatted commands the socket has not taken yet.
    std::size_t max_output_bytes = 64 << 20;
};

class RedisConnection {
public:
    explicit RedisConnection(RedisLimits limits = {});
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    /// Queues a command (its name and arguments, binary-safe). False when the connection has
    /// failed, or fails now because a limit is passed; the callback is then never called.
    bool command(std::span<const std::string_view> args, RedisCallback callback);
    bool command(std::initializer_list<std::string_view> args, RedisCallback callback) {
        return command(std::span(args.begin(), args.size()), std::move(callback));
    }

    /// SUBSCRIBE to `channels` (at least one). `done`, if set, is called once every
    /// confirmation has come (with the last one), or with the error or failure.
    bool subscribe(std::span<const std::string_view> channels, RedisCallback done = {});
    /// UNSUBSCRIBE from `channels` (at least one: unsubscribing from all at once is not
    /// offered, as its confirmations cannot be counted in advance).
    bool unsubscribe(std::span<const std::string_view> channels, RedisCallback done = {});

    void set_message_handler(RedisMessageHandler handler) { on_message_ = std::move(handler); }
    void set_subscription_handler(RedisSubscriptionHandler handler) {
        on_subscription_ = std::move(handler);
    }

    /// Bytes to write to the socket; call consume_output() with what it took.
    std::string_view output() const { return std::string_view(output_).substr(output_sent_); }
    void consume_output(std::size_t bytes);

    /// Bytes read from the socket. Hands every complete reply to its callback. False when
    /// the connection has failed (garbage, a limit, or an earlier failure).
    bool feed(std::string_view bytes);

    /// The owner lost the socket (or gives up): fails every pending command with `reason`.
    /// Does nothing when already failed.
    void fail(std::string_view reason);

    bool failed() const { return failed_; }
    /// Why the connection failed; empty while it has not.
    const std::string& failure() const { return failure_; }
    /// Commands sent and not yet answered (a subscribe counts once).
    std::size_t pending() const { return pending_.size(); }
    /// Channels the server last said this connection is subscribed to.
    long long subscriptions() const { return subscriptions_; }
    /// Replies and Pub/Sub pushes received so far. The owner samples it to tell a server that
    /// answers slowly but steadily (a long pipeline) from one that stopped answering.
    std::uint64_t received() const { return received_; }

private:
    struct Pending {
        RedisCallback callback;
        /// Confirmations still expected for a subscribe or unsubscribe; 0 for a command.
        std::size_t confirmations = 0;
    };

    bool send(std::span<const std::string_view> args, Pending pending);
    bool subscription(std::string_view verb, std::span<const std::string_view> channels,
                      RedisCallback done);
    /// Routes one reply to a handler or the head of the queue. False if it fails the
    /// connection (a reply nobody asked for).
    bool dispatch(const redisReply& reply);

    RedisLimits limits_;
    redisReader* reader_ = nullptr;
    std::string output_;
    std::size_t output_sent_ = 0;  ///< the prefix of output_ already written
    std::deque<Pending> pending_;
    RedisMessageHandler on_message_;
    RedisSubscriptionHandler on_subscription_;
    long long subscriptions_ = 0;
    std::uint64_t received_ = 0;
    bool failed_ = false;
    std::string failure_;
};

}  // namespace c10k::push
