#include "push/backplane.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace c10k::push {
namespace {

/// How often the backplane's timer runs: the store's reconnects and timeouts, and the count
/// changes that subscribe and unsubscribe channels in Redis.
constexpr std::int64_t kTickMs = 100;
/// Stream entries read per catch-up command; a longer gap takes several.
constexpr std::size_t kFetchPage = 1000;
/// Pub/Sub messages kept per channel while a read is in flight. Past it they are dropped and
/// read from the stream instead, so a flood during a slow read costs no unbounded memory.
constexpr std::size_t kMaxBuffered = 10'000;
/// Channels the Registry dropped are looked for once a second (every this many ticks).
constexpr unsigned kLeaveEveryTicks = 10;
/// Publishes held during the first connection attempt; more are refused at once.
constexpr std::size_t kMaxQueuedPublishes = 1000;

std::string describe(const RedisAddress& address) {
    std::string host = address.host.find(':') != std::string::npos
                           ? fmt::format("[{}]", address.host)
                           : address.host;
    std::string where = fmt::format("redis://{}:{}", host, address.port);
    if (address.database != 0) where += fmt::format("/{}", address.database);
    return where;
}

}  // namespace

Backplane::Backplane(Hub& hub, http::LoopContext& context, const RedisBackplaneOptions& options,
                     HistoryLimits history)
    : hub_(hub),
      context_(context),
      history_(history),
      where_(describe(options.address)),
      stats_(hub.backplane_stats()) {
    StreamStoreOptions store;
    store.prefix = options.prefix;
    store.history = history;
    store.client = options.client;
    store_ = std::make_unique<StreamStore>(options.address, context, store);
    store_->set_message_handler(
        [this](std::string_view channel, MessagePtr message) { on_message(channel, message); });
    store_->set_subscribed_handler([this](std::string_view channel) { on_subscribed(channel); });
    store_->set_removed_handler([this](std::string_view channel) { hub_.remove_local(channel); });
    store_->set_state_handler([this](bool commands, bool subscriptions, std::string_view why) {
        on_state(commands, subscriptions, why);
    });
}

Backplane::~Backplane() {
    stop();
}

void Backplane::start() {
    if (started_) return;
    started_ = true;
    store_->start();
    context_.timers().schedule(*this, context_.now_ms() + kTickMs);
}

void Backplane::stop() {
    if (!started_) return;
    started_ = false;
    std::vector<Queued> waiting = std::move(queued_);
    queued_.clear();
    for (Queued& each : waiting) {
        PublishOutcome outcome;
        outcome.error = "the server is stopping";
        each.done(outcome);
    }
    context_.timers().cancel(*this);
    // Pending reads and publishes are told they failed; their callbacks see started_ false.
    store_->stop();
}

void Backplane::on_timer() {
    store_->on_tick();
    follow_counts();
    if (store_->commands_ready()) {
        for (auto& [name, follow] : follows_) {
            if (!follow.retry || follow.busy) continue;
            follow.retry = false;
            auto head = hub_.registry().head(name);
            if (!head) continue;
            if (head->loaded) {
                fetch(name);
            } else {
                load(name);
            }
        }
    }
    if (started_) context_.timers().schedule(*this, context_.now_ms() + kTickMs);
}

void Backplane::follow_counts() {
    for (const ChannelCount& count : hub_.registry().take_count_changes(false)) {
        if (count.subscribers != 0 && !store_->wanted(count.channel)) {
            // Subscribers came back before the channel was dropped here: what it holds may be
            // stale, so the confirmation reads the stream from its last id.
            follows_[count.channel];
            store_->subscribe(count.channel);
        }
    }
    // A channel leaves Redis when the Registry drops it (no subscriber here for its linger).
    if (++ticks_ % kLeaveEveryTicks != 0) return;
    for (auto it = follows_.begin(); it != follows_.end();) {
        if (hub_.registry().head(it->first)) {
            ++it;
            continue;
        }
        store_->unsubscribe(it->first);
        it = follows_.erase(it);
    }
}

void Backplane::sync(const std::string& channel) {
    Follow& follow = follows_[channel];
    if (!store_->wanted(channel)) {
        store_->subscribe(channel);  // the confirmation loads it
    } else if (follow.subscribed) {
        load(channel);
    }
}

void Backplane::catch_up(const std::string& channel) {
    auto head = hub_.registry().head(channel);
    if (!head) return;
    if (!head->loaded) {
        sync(channel);
        return;
    }
    if (follows_.find(channel) == follows_.end()) return;
    fetch(channel);
}

void Backplane::on_subscribed(std::string_view name) {
    std::string channel(name);
    Follow& follow = follows_[channel];
    follow.subscribed = true;
    auto head = hub_.registry().head(channel);
    if (!head) return;  // nobody watches it here any more: the next count change leaves it
    if (head->loaded) {
        fetch(channel);  // made again after a loss: read what was missed meanwhile
    } else {
        load(channel);
    }
}

void Backplane::load(const std::string& channel) {
    Follow& follow = follows_[channel];
    if (follow.busy) {
        follow.again = true;
        return;
    }
    follow.busy = true;
    store_->load(channel, history_.max_messages, [this, channel](const Loaded& loaded) {
        if (!read_done(channel, loaded, "read")) return;
        hub_.loaded(channel, loaded.messages, loaded.last_id);
        after_read(channel);
    });
}

void Backplane::fetch(const std::string& channel) {
    Follow& follow = follows_[channel];
    if (follow.busy) {
        follow.again = true;
        return;
    }
    auto head = hub_.registry().head(channel);
    if (!head || !head->loaded) {
        if (head) load(channel);
        return;
    }
    follow.busy = true;
    std::uint64_t from = head->last_id;
    store_->fetch_after(channel, from, kFetchPage, [this, channel, from](const Loaded& loaded) {
        on_fetched(channel, from, loaded);
    });
}

void Backplane::on_fetched(const std::string& channel, std::uint64_t from, const Loaded& loaded) {
    if (!read_done(channel, loaded, "catch up")) return;
    auto head = hub_.registry().head(channel);
    if (!head || !head->loaded) return;
    // Nothing was applied to the channel while the read was in flight (arrivals were
    // buffered), so the stream must continue from `from`.
    std::uint64_t lost_after = 0;
    bool lost = false;
    std::uint64_t applied = 0;
    if (!loaded.exists) {
        if (from != 0) {
            lost = true;
            lost_after = from;
            hub_.lost(channel, 0, 0);
        }
    } else if (!loaded.messages.empty()) {
        const MessagePtr& first = loaded.messages.front();
        if (first->prev_id != from) {
            lost = true;
            lost_after = from;
            hub_.lost(channel, first->id, first->prev_id);
        }
        for (const MessagePtr& message : loaded.messages) {
            if (hub_.deliver_chained(channel, message, false).chain == Registry::Chain::applied) {
                ++applied;
            }
        }
    } else if (loaded.last_id != from) {
        lost = true;
        lost_after = from;
        hub_.lost(channel, 0, loaded.last_id);
    }
    stats_.caught_up += applied;
    if (lost) {
        ++stats_.history_lost;
        core::log(core::LogLevel::warn,
                  "push: the stream of channel '{}' in {} does not continue from id {} (trimmed, "
                  "or Redis restarted without persistence): its subscribers were told history "
                  "was lost",
                  channel, where_, lost_after);
    } else if (applied > 0 && log_.allow(context_.now_ms())) {
        core::log(core::LogLevel::info, "push: channel '{}' caught up {} messages from {}", channel,
                  applied, where_);
    }
    if (loaded.messages.size() >= kFetchPage) {
        fetch(channel);  // more to read: arrivals stay buffered until the last page
        return;
    }
    after_read(channel);
    // Subscribers that resumed from an id this process lacked look again now.
    hub_.post_ready(channel);
}

bool Backplane::read_done(const std::string& channel, const Loaded& loaded, std::string_view what) {
    auto it = follows_.find(channel);
    if (it == follows_.end()) return false;  // left meanwhile
    it->second.busy = false;
    if (!started_) return false;
    if (!loaded.ok) {
        it->second.retry = true;
        if (log_.allow(context_.now_ms())) {
            core::log(core::LogLevel::warn,
                      "push: could not {} channel '{}' from {}: {}; trying again", what, channel,
                      where_, loaded.error);
        }
        return false;
    }
    return true;
}

void Backplane::after_read(const std::string& channel) {
    drain(channel);
    auto again = follows_.find(channel);
    if (again != follows_.end() && again->second.again && !again->second.busy) {
        again->second.again = false;
        fetch(channel);
    }
}

void Backplane::drain(const std::string& channel) {
    auto it = follows_.find(channel);
    if (it == follows_.end() || it->second.busy || it->second.buffered.empty()) return;
    std::vector<MessagePtr> arrived = std::move(it->second.buffered);
    it->second.buffered.clear();
    std::sort(arrived.begin(), arrived.end(),
              [](const MessagePtr& a, const MessagePtr& b) { return a->id < b->id; });
    for (const MessagePtr& message : arrived) follow(channel, message);
}

void Backplane::on_message(std::string_view name, MessagePtr message) {
    ++stats_.received;
    follow(name, std::move(message));
}

void Backplane::follow(std::string_view name, MessagePtr message) {
    auto it = follows_.find(name);
    if (it == follows_.end()) return;  // not followed here (any more)
    Follow& follow = it->second;
    if (follow.busy) {
        if (follow.buffered.size() < kMaxBuffered) {
            follow.buffered.push_back(std::move(message));
        } else {
            follow.again = true;  // read it from the stream after this read
        }
        return;
    }
    Registry::Applied applied = hub_.deliver_chained(name, message, false);
    switch (applied.chain) {
        case Registry::Chain::applied:
        case Registry::Chain::absent:  // not loaded yet: its load reads the stream
            return;
        case Registry::Chain::duplicate:
            ++stats_.duplicates;
            return;
        case Registry::Chain::gap: {
            ++stats_.gaps;
            std::string channel(name);
            if (log_.allow(context_.now_ms())) {
                core::log(core::LogLevel::warn,
                          "push: channel '{}' missed messages before id {} (a Pub/Sub message "
                          "was lost); reading them from the stream",
                          channel, message->id);
            }
            follow.buffered.push_back(std::move(message));
            fetch(channel);
            return;
        }
    }
}

void Backplane::on_state(bool commands_up, bool subscriptions_up, std::string_view why) {
    if (!first_attempt_done_ && (commands_up || !why.empty())) {
        first_attempt_done_ = true;
        // Publishes that came during the first attempt: sent now, or refused with its reason.
        std::vector<Queued> waiting = std::move(queued_);
        queued_.clear();
        for (Queued& each : waiting) {
            publish(each.channel, each.event, each.data, each.content_type, std::move(each.done));
        }
    }
    stats_.commands_up = commands_up;
    stats_.subscriptions_up = subscriptions_up;
    if (!subscriptions_up) {
        for (auto& [name, follow] : follows_) follow.subscribed = false;
    }
    bool up = commands_up && subscriptions_up;
    if (up && !was_up_) {
        core::log(core::LogLevel::info, "push: connected to {}; following {} channels", where_,
                  follows_.size());
    } else if (!up && was_up_) {
        ++stats_.connection_losses;
        core::log(core::LogLevel::warn,
                  "push: lost {} ({}); subscribers stay connected and are caught up when it is "
                  "back; publishes get 503 until then",
                  where_, why);
    } else if (!up && !why.empty() && log_.allow(context_.now_ms())) {
        core::log(core::LogLevel::warn,
                  "push: {} is unreachable ({}); retrying; publishes get 503 until it answers",
                  where_, why);
    }
    was_up_ = up;
}

void Backplane::publish(std::string_view channel, std::string_view event, std::string_view data,
                        std::string_view content_type, PublishDone done) {
    if (!store_->commands_ready() && !first_attempt_done_ && started_ &&
        queued_.size() < kMaxQueuedPublishes) {
        queued_.push_back({std::string(channel), std::string(event), std::string(data),
                           std::string(content_type), std::move(done)});
        return;
    }
    if (!store_->commands_ready()) {
        ++stats_.publish_failed;
        PublishOutcome outcome;
        outcome.error = fmt::format("{} is not connected", where_);
        done(outcome);
        return;
    }
    store_->publish(
        channel, event, data, content_type,
        [this, name = std::string(channel), done = std::move(done)](const Published& published) {
            PublishOutcome outcome;
            outcome.ok = published.ok;
            outcome.error = published.error;
            outcome.unknown = published.unknown;
            outcome.message = published.message;
            outcome.receivers = published.receivers;
            if (published.ok) {
                ++stats_.published;
                // Delivered here at once if it continues the chain; the Pub/Sub
                // copy then arrives as a duplicate.
                if (started_) follow(name, published.message);
            } else {
                ++stats_.publish_failed;
            }
            done(outcome);
        });
}

void Backplane::remove(std::string_view channel,
                       std::function<void(bool, bool, const std::string&)> done) {
    store_->remove(channel, [this, name = std::string(channel), done = std::move(done)](
                                const StoreResult& result, bool existed) {
        if (result.ok) hub_.remove_local(name);
        done(result.ok, existed, result.error);
    });
}

}  // namespace c10k::push
