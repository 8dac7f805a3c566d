// Redis fan-out, measured from Redis's side: what it costs Redis to hand every published message
// to S followers (each standing for one c10k server) that each follow the same K channels, by
// Pub/Sub (SUBSCRIBE) or by stream reads (XREAD BLOCK naming all K streams). See
// docs/ARCHITECTURE.md, "Why Pub/Sub for fan-out, and streams for history".
//
// One publisher (this thread) sends R messages per second for T seconds, channel i mod K for
// message i, each by EVALSHA of a small script, as production does (src/push/stream_store.cpp):
//   pubsub: XADD key MAXLEN ~ M * d PAYLOAD, then PUBLISH key PAYLOAD
//   stream: XADD key MAXLEN ~ M * d PAYLOAD alone
// Both modes pay the same script call, so the difference in Redis CPU is the fan-out alone.
// Each follower runs in its own thread on its own connection:
//   pubsub: SUBSCRIBE to the K channels, then reads messages
//   stream: XREAD BLOCK 0 STREAMS k1..kK id1..idK with its last id per stream, issued again
//           after every reply (what a server following K channels by stream reads must do)
// The payload starts with the message's sequence number and its send time (CLOCK_MONOTONIC,
// ns), so each follower checks it got every message once and measures delivery latency.
// Redis's CPU (INFO cpu, used_cpu_sys + used_cpu_user) and output bytes (INFO stats) are read
// just before the first publish and when every follower has every message (or --drain seconds
// after the last publish): the figures cover the publishing and the fan-out that follows it.
//
// Prints one JSON object. Use an empty Redis (bench/redis_fanout.sh flushes it between cases):
// stream followers read from id 0-0. bench/redis_fanout.sh compiles it on the fly:
//   g++ -O2 -std=c++20 -Wall -Wextra bench/redis_fanout.cpp $(pkg-config --cflags --libs hiredis)
//
// usage: redis_fanout --port P --mode pubsub|stream [--servers S] [--channels K] [--rate R]
//                     [--seconds T] [--bytes B] [--maxlen M] [--drain D]

#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

/// Stream keys and Pub/Sub channels: this prefix and the channel's number, as long as a
/// production key ("c10k:" + a short channel name).
constexpr std::string_view kKeyPrefix = "c10k:bench-";
/// Channels per SUBSCRIBE, as the backplane sends them after a reconnect.
constexpr std::size_t kChannelsPerSubscribe = 512;
/// How often a waiting follower looks at the stop flag.
constexpr int kPollMs = 100;

constexpr std::string_view kPubSubScript = R"lua(
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[2])
return redis.call('PUBLISH', KEYS[1], ARGV[2])
)lua";

constexpr std::string_view kStreamScript = R"lua(
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[2])
return 0
)lua";

enum class Mode { pubsub, stream };

struct Options {
    int port = 0;
    Mode mode = Mode::pubsub;
    bool mode_given = false;
    int servers = 1;
    int channels = 1;
    double rate = 1000;
    double seconds = 10;
    int bytes = 100;
    int maxlen = 100;
    double drain = 5;
};

struct ContextFree {
    void operator()(redisContext* context) const { redisFree(context); }
};
struct ReplyFree {
    void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "redis_fanout: %s\n", why.c_str());
    std::exit(1);
}

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "redis_fanout: %s\n"
                 "usage: redis_fanout --port P --mode pubsub|stream [--servers S] "
                 "[--channels K] [--rate R] [--seconds T] [--bytes B] [--maxlen M] "
                 "[--drain D]\n",
                 why.c_str());
    std::exit(2);
}

std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void sleep_until_ns(std::uint64_t deadline) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(deadline / 1'000'000'000u);
    ts.tv_nsec = static_cast<long>(deadline % 1'000'000'000u);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

long parse_long(const std::string& flag, const char* text, long low, long high) {
    char* end = nullptr;
    errno = 0;
    const long value = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < low || value > high) {
        usage(flag + ": an integer from " + std::to_string(low) + " to " + std::to_string(high) +
              ", not '" + text + "'");
    }
    return value;
}

double parse_double(const std::string& flag, const char* text, double low, double high) {
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value >= low && value <= high)) {
        usage(flag + ": a number from " + std::to_string(low) + " to " + std::to_string(high) +
              ", not '" + text + "'");
    }
    return value;
}

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        const char* value = nullptr;
        if (const auto equals = flag.find('='); equals != std::string::npos) {
            value = argv[i] + equals + 1;
            flag.resize(equals);
        } else if (flag == "-h" || flag == "--help") {
            usage("help");
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            usage(flag + " needs a value");
        }
        if (flag == "--port") {
            options.port = static_cast<int>(parse_long(flag, value, 1, 65535));
        } else if (flag == "--mode") {
            const std::string_view mode = value;
            if (mode == "pubsub") {
                options.mode = Mode::pubsub;
            } else if (mode == "stream") {
                options.mode = Mode::stream;
            } else {
                usage("--mode: pubsub or stream, not '" + std::string(mode) + "'");
            }
            options.mode_given = true;
        } else if (flag == "--servers") {
            options.servers = static_cast<int>(parse_long(flag, value, 0, 256));
        } else if (flag == "--channels") {
            options.channels = static_cast<int>(parse_long(flag, value, 1, 1'000'000));
        } else if (flag == "--rate") {
            options.rate = parse_double(flag, value, 0.1, 1e6);
        } else if (flag == "--seconds") {
            options.seconds = parse_double(flag, value, 0.1, 3600);
        } else if (flag == "--bytes") {
            options.bytes = static_cast<int>(parse_long(flag, value, 1, 1 << 20));
        } else if (flag == "--maxlen") {
            options.maxlen = static_cast<int>(parse_long(flag, value, 1, 1'000'000'000));
        } else if (flag == "--drain") {
            options.drain = parse_double(flag, value, 0, 600);
        } else {
            usage("unknown flag " + flag);
        }
    }
    if (options.port == 0) usage("--port is required");
    if (!options.mode_given) usage("--mode is required");
    if (options.rate * options.seconds > 50'000'000)
        usage("--rate x --seconds: 50,000,000 at most");
    return options;
}

Context connect_redis(int port) {
    const timeval timeout{2, 0};
    Context context(redisConnectWithTimeout("127.0.0.1", port, timeout));
    if (!context) fail("cannot allocate a Redis context");
    if (context->err) {
        fail("cannot connect to Redis at 127.0.0.1:" + std::to_string(port) + ": " +
             context->errstr);
    }
    // The connect timeout would also bound every read; a blocked XREAD waits as long as needed.
    redisSetTimeout(context.get(), timeval{0, 0});
    return context;
}

Reply command(redisContext* context, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) fail("Redis: " + args[0] + ": " + context->errstr);
    if (reply->type == REDIS_REPLY_ERROR) fail("Redis: " + args[0] + ": " + reply->str);
    return reply;
}

/// A numeric field of INFO SECTION ("used_cpu_sys:1.234").
double info_number(redisContext* context, const std::string& section, const std::string& name) {
    const Reply reply = command(context, {"INFO", section});
    const std::string_view text(reply->str, reply->len);
    const std::string key = name + ":";
    std::size_t at = 0;
    while ((at = text.find(key, at)) != std::string_view::npos) {
        if (at == 0 || text[at - 1] == '\n') {
            return std::strtod(std::string(text.substr(at + key.size(), 32)).c_str(), nullptr);
        }
        at += key.size();
    }
    fail("Redis: INFO " + section + " has no " + name);
}

double redis_cpu_s(redisContext* context) {
    return info_number(context, "cpu", "used_cpu_sys") +
           info_number(context, "cpu", "used_cpu_user");
}

/// Sends what the context has buffered, all of it (the socket is blocking).
bool flush(redisContext* context) {
    int done = 0;
    while (!done) {
        if (redisBufferWrite(context, &done) != REDIS_OK) return false;
    }
    return true;
}

enum class Next { reply, idle, error };

/// The next reply if one comes within TIMEOUT_MS: the buffered ones first, then the socket's.
/// Polling the descriptor, not a socket timeout, so that a follower can look at its stop flag
/// without the context going into an error state.
Next next_reply(redisContext* context, Reply& out, int timeout_ms) {
    void* reply = nullptr;
    if (redisGetReplyFromReader(context, &reply) != REDIS_OK) return Next::error;
    if (reply == nullptr) {
        pollfd watched{context->fd, POLLIN, 0};
        const int ready = poll(&watched, 1, timeout_ms);
        if (ready < 0) return errno == EINTR ? Next::idle : Next::error;
        if (ready == 0) return Next::idle;
        if (redisBufferRead(context) != REDIS_OK) return Next::error;
        if (redisGetReplyFromReader(context, &reply) != REDIS_OK) return Next::error;
        if (reply == nullptr) return Next::idle;
    }
    out.reset(static_cast<redisReply*>(reply));
    return Next::reply;
}

bool is_string(const redisReply* reply) {
    return reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS;
}

bool equals(const redisReply* reply, std::string_view text) {
    return is_string(reply) && std::string_view(reply->str, reply->len) == text;
}

/// One follower: one connection, one thread, every channel. Counts what it receives.
struct Follower {
    std::thread thread;
    std::vector<std::uint8_t> seen;  ///< by sequence number: received already
    std::atomic<std::uint64_t> unique{0};
    std::uint64_t duplicates = 0;
    std::uint64_t malformed = 0;
    std::uint64_t reads = 0;  ///< XREAD replies (stream mode)
    std::vector<std::uint32_t> latencies_us;
    double cpu_s = 0;  ///< this thread's CPU while publishing and draining
    std::string error;
};

/// What the publisher and the followers share.
struct Shared {
    const Options& options;
    std::vector<std::string> keys;
    std::atomic<bool> stop{false};
    std::atomic<int> ready{0};
    std::atomic<bool> started{false};
};

void on_payload(Follower& follower, const char* data, std::size_t length) {
    const std::uint64_t received_ns = now_ns();
    const std::string text(data, std::min<std::size_t>(length, 48));
    unsigned long long sequence = 0, sent_ns = 0;
    if (std::sscanf(text.c_str(), "%llu %llu", &sequence, &sent_ns) != 2 ||
        sequence >= follower.seen.size()) {
        ++follower.malformed;
        return;
    }
    if (follower.seen[sequence]) {
        ++follower.duplicates;
        return;
    }
    follower.seen[sequence] = 1;
    follower.unique.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t latency_ns = received_ns > sent_ns ? received_ns - sent_ns : 0;
    follower.latencies_us.push_back(
        static_cast<std::uint32_t>(std::min<std::uint64_t>(latency_ns / 1000, UINT32_MAX)));
}

/// The channel number of a key (the digits after kKeyPrefix), or -1.
long channel_of(const redisReply* key) {
    if (!is_string(key) || key->len <= kKeyPrefix.size()) return -1;
    return std::strtol(key->str + kKeyPrefix.size(), nullptr, 10);
}

/// Waits (on the stop flag) until the publisher starts, and starts this thread's CPU clock.
double wait_started(Shared& shared) {
    while (!shared.started.load() && !shared.stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return thread_cpu_s();
}

void follow_pubsub(Shared& shared, Follower& follower) {
    const Context context = connect_redis(shared.options.port);
    const auto& keys = shared.keys;
    for (std::size_t first = 0; first < keys.size(); first += kChannelsPerSubscribe) {
        const std::size_t last = std::min(keys.size(), first + kChannelsPerSubscribe);
        std::vector<const char*> argv{"SUBSCRIBE"};
        std::vector<std::size_t> lengths{9};
        for (std::size_t i = first; i < last; ++i) {
            argv.push_back(keys[i].data());
            lengths.push_back(keys[i].size());
        }
        redisAppendCommandArgv(context.get(), static_cast<int>(argv.size()), argv.data(),
                               lengths.data());
    }
    if (!flush(context.get())) {
        follower.error = std::string("SUBSCRIBE: ") + context->errstr;
        return;
    }
    std::size_t confirmed = 0;
    bool counted_ready = false;
    double cpu_start = thread_cpu_s();
    Reply reply;
    while (!shared.stop.load()) {
        if (!counted_ready && confirmed == keys.size()) {
            counted_ready = true;
            ++shared.ready;
            cpu_start = wait_started(shared);
        }
        const Next next = next_reply(context.get(), reply, kPollMs);
        if (next == Next::idle) continue;
        if (next == Next::error) {
            follower.error = std::string("read: ") + context->errstr;
            break;
        }
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
            follower.error = "an unexpected Pub/Sub reply";
            break;
        }
        if (equals(reply->element[0], "message") && is_string(reply->element[2])) {
            on_payload(follower, reply->element[2]->str, reply->element[2]->len);
        } else if (equals(reply->element[0], "subscribe")) {
            ++confirmed;
        } else {
            ++follower.malformed;
        }
    }
    follower.cpu_s = thread_cpu_s() - cpu_start;
}

void follow_streams(Shared& shared, Follower& follower) {
    const Context context = connect_redis(shared.options.port);
    const auto& keys = shared.keys;
    std::vector<std::string> ids(keys.size(), "0-0");
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    // Every reply is followed by the same command naming every stream, with the last ids.
    auto send_read = [&] {
        argv.assign({"XREAD", "BLOCK", "0", "STREAMS"});
        lengths.assign({5, 5, 1, 7});
        for (const auto& key : keys) {
            argv.push_back(key.data());
            lengths.push_back(key.size());
        }
        for (const auto& id : ids) {
            argv.push_back(id.data());
            lengths.push_back(id.size());
        }
        redisAppendCommandArgv(context.get(), static_cast<int>(argv.size()), argv.data(),
                               lengths.data());
        return flush(context.get());
    };
    if (!send_read()) {
        follower.error = std::string("XREAD: ") + context->errstr;
        return;
    }
    ++shared.ready;
    const double cpu_start = wait_started(shared);
    Reply reply;
    while (!shared.stop.load()) {
        const Next next = next_reply(context.get(), reply, kPollMs);
        if (next == Next::idle) continue;
        if (next == Next::error) {
            follower.error = std::string("read: ") + context->errstr;
            break;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            follower.error = std::string("XREAD: ") + reply->str;
            break;
        }
        ++follower.reads;
        // [[key, [[id, [field, value, ...]], ...]], ...]
        for (std::size_t s = 0; reply->type == REDIS_REPLY_ARRAY && s < reply->elements; ++s) {
            const redisReply* stream = reply->element[s];
            if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) continue;
            const long channel = channel_of(stream->element[0]);
            const redisReply* entries = stream->element[1];
            if (channel < 0 || channel >= static_cast<long>(ids.size()) ||
                entries->type != REDIS_REPLY_ARRAY) {
                ++follower.malformed;
                continue;
            }
            for (std::size_t e = 0; e < entries->elements; ++e) {
                const redisReply* entry = entries->element[e];
                if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
                    !is_string(entry->element[0])) {
                    ++follower.malformed;
                    continue;
                }
                ids[static_cast<std::size_t>(channel)].assign(entry->element[0]->str,
                                                              entry->element[0]->len);
                const redisReply* fields = entry->element[1];
                for (std::size_t f = 0;
                     fields->type == REDIS_REPLY_ARRAY && f + 1 < fields->elements; f += 2) {
                    if (equals(fields->element[f], "d") && is_string(fields->element[f + 1])) {
                        on_payload(follower, fields->element[f + 1]->str,
                                   fields->element[f + 1]->len);
                    }
                }
            }
        }
        if (!send_read()) {
            follower.error = std::string("XREAD: ") + context->errstr;
            break;
        }
    }
    follower.cpu_s = thread_cpu_s() - cpu_start;
}

void follow(Shared& shared, Follower& follower) {
    if (shared.options.mode == Mode::pubsub) {
        follow_pubsub(shared, follower);
    } else {
        follow_streams(shared, follower);
    }
}

/// A message: its sequence number and send time, then 'x' up to BYTES (longer if BYTES is
/// shorter than the header).
std::string payload(std::uint64_t sequence, std::uint64_t sent_ns, int bytes) {
    char header[64];
    const int length =
        std::snprintf(header, sizeof header, "%" PRIu64 " %" PRIu64 " ", sequence, sent_ns);
    std::string text(header, static_cast<std::size_t>(length));
    if (static_cast<int>(text.size()) < bytes) text.resize(static_cast<std::size_t>(bytes), 'x');
    return text;
}

struct Published {
    std::uint64_t count = 0;
    std::uint64_t errors = 0;
    std::string first_error;
    long long min_receivers = -1;  ///< PUBLISH's count of subscribers reached (pubsub mode)
    double seconds = 0;
};

/// Publishes at the rate for the duration: every message due is sent at once (pipelined when
/// the publisher is behind), then their replies are read.
Published publish(redisContext* context, const Options& options, const std::string& sha,
                  const std::vector<std::string>& keys) {
    Published result;
    const std::uint64_t total =
        static_cast<std::uint64_t>(std::llround(options.rate * options.seconds));
    const double period_ns = 1e9 / options.rate;
    const std::string maxlen = std::to_string(options.maxlen);
    const std::uint64_t start = now_ns();
    const std::uint64_t end = start + static_cast<std::uint64_t>(options.seconds * 1e9);
    std::uint64_t sent = 0;
    while (sent < total) {
        const std::uint64_t now = now_ns();
        if (now >= end) break;
        const auto due = std::min<std::uint64_t>(
            total, static_cast<std::uint64_t>(static_cast<double>(now - start) / period_ns) + 1);
        if (due <= sent) {
            sleep_until_ns(start +
                           static_cast<std::uint64_t>(static_cast<double>(sent) * period_ns));
            continue;
        }
        for (std::uint64_t i = sent; i < due; ++i) {
            const std::string& key = keys[i % keys.size()];
            const std::string data = payload(i, now_ns(), options.bytes);
            const char* argv[] = {"EVALSHA",   sha.c_str(),    "1",
                                  key.c_str(), maxlen.c_str(), data.c_str()};
            const std::size_t lengths[] = {7,          sha.size(),    1,
                                           key.size(), maxlen.size(), data.size()};
            redisAppendCommandArgv(context, 6, argv, lengths);
        }
        for (std::uint64_t i = sent; i < due; ++i) {
            void* raw = nullptr;
            if (redisGetReply(context, &raw) != REDIS_OK) {
                fail(std::string("Redis: the publisher's connection: ") + context->errstr);
            }
            const Reply reply(static_cast<redisReply*>(raw));
            if (reply->type == REDIS_REPLY_ERROR) {
                if (result.errors++ == 0) result.first_error = reply->str;
            } else if (reply->type == REDIS_REPLY_INTEGER && options.mode == Mode::pubsub) {
                if (result.min_receivers < 0 || reply->integer < result.min_receivers) {
                    result.min_receivers = reply->integer;
                }
            }
        }
        result.count += due - sent;
        sent = due;
    }
    result.count -= result.errors;
    result.seconds = static_cast<double>(now_ns() - start) / 1e9;
    return result;
}

std::uint32_t percentile(std::vector<std::uint32_t>& values, double fraction) {
    if (values.empty()) return 0;
    const auto at = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at),
                     values.end());
    return values[at];
}

/// A JSON string's contents (errors may hold quotes).
std::string escaped(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

double per(double amount, std::uint64_t count) {
    return count == 0 ? 0 : amount / static_cast<double>(count);
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse_options(argc, argv);
    ::signal(SIGPIPE, SIG_IGN);

    Shared shared{options, {}};
    for (int i = 0; i < options.channels; ++i) {
        shared.keys.push_back(std::string(kKeyPrefix) + std::to_string(i));
    }
    const Context control = connect_redis(options.port);
    const Context publisher = connect_redis(options.port);
    const std::string_view script = options.mode == Mode::pubsub ? kPubSubScript : kStreamScript;
    const std::string sha = command(publisher.get(), {"SCRIPT", "LOAD", std::string(script)})->str;

    const auto capacity = static_cast<std::size_t>(std::llround(options.rate * options.seconds));
    std::vector<Follower> followers(static_cast<std::size_t>(options.servers));
    for (auto& follower : followers) {
        follower.seen.assign(capacity, 0);
        follower.latencies_us.reserve(capacity);
    }
    for (auto& follower : followers) {
        follower.thread = std::thread([&shared, &follower] { follow(shared, follower); });
    }

    // Every follower subscribed, or blocked in its first XREAD, before the clock starts.
    const std::uint64_t setup_start = now_ns();
    const std::uint64_t setup_deadline = setup_start + 60'000'000'000u;
    auto setup_failed = [&] {
        return std::any_of(followers.begin(), followers.end(),
                           [](const Follower& f) { return !f.error.empty(); });
    };
    while (shared.ready.load() < options.servers && now_ns() < setup_deadline && !setup_failed()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (options.mode == Mode::stream) {
        while (info_number(control.get(), "clients", "blocked_clients") < options.servers &&
               now_ns() < setup_deadline && !setup_failed()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    const bool set_up = shared.ready.load() == options.servers && !setup_failed();
    const double setup_s = static_cast<double>(now_ns() - setup_start) / 1e9;

    Published published;
    double cpu_before = 0, cpu_after = 0, out_before = 0, out_after = 0, in_before = 0,
           in_after = 0, drain_s = -1;
    std::uint64_t delivered_by_last_publish = 0;
    auto delivered = [&] {
        std::uint64_t total = 0;
        for (const auto& follower : followers) total += follower.unique.load();
        return total;
    };
    if (set_up) {
        cpu_before = redis_cpu_s(control.get());
        out_before = info_number(control.get(), "stats", "total_net_output_bytes");
        in_before = info_number(control.get(), "stats", "total_net_input_bytes");
        shared.started = true;
        published = publish(publisher.get(), options, sha, shared.keys);
        const std::uint64_t last_publish = now_ns();
        delivered_by_last_publish = delivered();
        const std::uint64_t expected = published.count * followers.size();
        const auto drain_end = last_publish + static_cast<std::uint64_t>(options.drain * 1e9);
        while (delivered() < expected && now_ns() < drain_end && !setup_failed()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (delivered() >= expected) drain_s = static_cast<double>(now_ns() - last_publish) / 1e9;
        cpu_after = redis_cpu_s(control.get());
        out_after = info_number(control.get(), "stats", "total_net_output_bytes");
        in_after = info_number(control.get(), "stats", "total_net_input_bytes");
    }
    shared.stop = true;
    for (auto& follower : followers) follower.thread.join();
    for (const auto& follower : followers) {
        if (!follower.error.empty()) {
            std::fprintf(stderr, "redis_fanout: a follower: %s\n", follower.error.c_str());
        }
    }
    if (!set_up) fail("the followers were not all set up within 60 s");

    std::uint64_t deliveries = 0, lost = 0, duplicates = 0, malformed = 0, reads = 0;
    double follower_cpu_s = 0;
    std::vector<std::uint32_t> latencies;
    std::string per_follower;
    for (const auto& follower : followers) {
        const std::uint64_t unique = follower.unique.load();
        deliveries += unique;
        lost += published.count - std::min(unique, published.count);
        duplicates += follower.duplicates;
        malformed += follower.malformed;
        reads += follower.reads;
        follower_cpu_s += follower.cpu_s;
        latencies.insert(latencies.end(), follower.latencies_us.begin(),
                         follower.latencies_us.end());
        per_follower += (per_follower.empty() ? "" : ",") + std::to_string(unique);
    }
    const std::size_t samples = latencies.size();
    const std::uint32_t p50 = percentile(latencies, 0.50);
    const std::uint32_t p99 = percentile(latencies, 0.99);
    const std::uint32_t max = samples ? *std::max_element(latencies.begin(), latencies.end()) : 0;
    const double redis_cpu = cpu_after - cpu_before;
    const double out_bytes = out_after - out_before;
    const double in_bytes = in_after - in_before;
    std::string errors;
    for (const auto& follower : followers) {
        if (!follower.error.empty()) {
            errors += (errors.empty() ? "\"" : ",\"") + escaped(follower.error) + "\"";
        }
    }

    std::printf(
        "{\"mode\":\"%s\",\"servers\":%d,\"channels\":%d,\"rate\":%g,\"seconds\":%g,"
        "\"bytes\":%d,\"maxlen\":%d,\"setup_s\":%.3f,"
        "\"published\":%" PRIu64
        ",\"publish_s\":%.3f,\"publish_rate\":%.1f,"
        "\"publish_errors\":%" PRIu64
        ",\"publish_first_error\":\"%s\",\"min_receivers\":%lld,"
        "\"expected_deliveries\":%" PRIu64 ",\"deliveries\":%" PRIu64
        ",\"delivered_by_last_publish\":%" PRIu64
        ",\"per_follower\":[%s],"
        "\"lost\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"malformed\":%" PRIu64
        ",\"drain_s\":%.3f,\"complete\":%s,\"follower_errors\":[%s],"
        "\"redis_cpu_s\":%.6f,\"redis_cpu_us_per_message\":%.3f,"
        "\"redis_cpu_us_per_delivery\":%.3f,"
        "\"redis_net_output_bytes\":%.0f,\"redis_output_bytes_per_delivery\":%.1f,"
        "\"redis_net_input_bytes\":%.0f,\"redis_input_bytes_per_message\":%.1f,"
        "\"stream_reads\":%" PRIu64
        ",\"deliveries_per_read\":%.2f,"
        "\"follower_cpu_s\":%.3f,\"follower_cpu_us_per_delivery\":%.3f,"
        "\"latency_us\":{\"samples\":%zu,\"p50\":%u,\"p99\":%u,\"max\":%u}}\n",
        options.mode == Mode::pubsub ? "pubsub" : "stream", options.servers, options.channels,
        options.rate, options.seconds, options.bytes, options.maxlen, setup_s, published.count,
        published.seconds, static_cast<double>(published.count) / published.seconds,
        published.errors, escaped(published.first_error).c_str(), published.min_receivers,
        published.count * followers.size(), deliveries, delivered_by_last_publish,
        per_follower.c_str(), lost, duplicates, malformed, drain_s, drain_s >= 0 ? "true" : "false",
        errors.c_str(), redis_cpu, per(redis_cpu * 1e6, published.count),
        per(redis_cpu * 1e6, deliveries), out_bytes, per(out_bytes, deliveries), in_bytes,
        per(in_bytes, published.count), reads, per(static_cast<double>(deliveries), reads),
        follower_cpu_s, per(follower_cpu_s * 1e6, deliveries), samples, p50, p99, max);
    return 0;
}
