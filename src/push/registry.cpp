#include "push/registry.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace c10k::push {

Registry::Registry(RegistryOptions options)
    : limits_(options.history),
      loops_(options.loops),
      external_(options.external),
      linger_ms_(options.external_linger_ms) {
    if (loops_ == 0) throw std::invalid_argument("push registry needs at least one loop");
}

Registry::Channel& Registry::find_or_create(std::string_view name, std::int64_t now_ms) {
    if (auto it = channels_.find(name); it != channels_.end()) return it->second;
    // See the header: the creation time in microseconds, above anything a dropped channel used.
    std::uint64_t from_clock = now_ms > 0 ? static_cast<std::uint64_t>(now_ms) * 1000 : 0;
    std::uint64_t first_id = std::max(from_clock, retired_floor_ + 1);
    auto [it, inserted] = channels_.try_emplace(std::string(name), limits_, loops_, first_id);
    return it->second;
}

void Registry::retire(std::string_view name, const Channel& channel) {
    retired_floor_ = std::max({retired_floor_, channel.first_id, channel.last_id});
    // The sequencer was told a count it must now hear is 0 (unless the name is on the list).
    if (tracking_ && !channel.changed && reported_.find(name) != reported_.end()) {
        changed_.emplace_back(name);
    }
}

void Registry::note_change(std::string_view name, Channel& channel) {
    if (!tracking_ || channel.changed) return;
    channel.changed = true;
    changed_.emplace_back(name);
}

std::vector<std::size_t> Registry::loops_with_subscribers(const Channel& channel) {
    std::vector<std::size_t> loops;
    if (channel.subscribers == 0) return loops;
    for (std::size_t loop = 0; loop < channel.per_loop.size(); ++loop) {
        if (channel.per_loop[loop] > 0) loops.push_back(loop);
    }
    return loops;
}

Registry::Published Registry::publish(std::string_view channel, std::string event, std::string data,
                                      std::string content_type, std::int64_t now_ms) {
    // The message is allocated before taking the lock; only its id is assigned under it.
    auto message = std::make_shared<Message>();
    message->event = std::move(event);
    message->data = std::move(data);
    message->content_type = std::move(content_type);
    message->published_ms = now_ms;

    Published result;
    std::lock_guard lock(mutex_);
    Channel& state = find_or_create(channel, now_ms);
    message->id = state.next_id++;
    message->prev_id = message->id - 1;
    state.last_id = message->id;
    result.message = message;
    state.history.append(std::move(message));
    state.history.prune(now_ms);
    result.loops_to_notify = loops_with_subscribers(state);
    result.subscribers = state.subscribers + state.elsewhere;
    return result;
}

Registry::Published Registry::apply(std::string_view channel, MessagePtr message,
                                    std::int64_t now_ms) {
    Published result;
    std::lock_guard lock(mutex_);
    Channel& state = find_or_create(channel, now_ms);
    result.subscribers = state.subscribers + state.elsewhere;
    if (message->id <= state.last_id) {
        result.message = std::move(message);
        return result;
    }
    // The sequencer's ids replace this replica's own range: what clients hold are its ids.
    state.next_id = message->id + 1;
    state.last_id = message->id;
    result.message = message;
    state.history.append(std::move(message));
    state.history.prune(now_ms);
    result.loops_to_notify = loops_with_subscribers(state);
    return result;
}

void Registry::fill_backlog(Channel& state, std::optional<std::uint64_t> last_id,
                            std::size_t first_count, bool may_wait, Subscribed& result) const {
    result.last_id = state.last_id;
    result.incarnation = state.first_id;
    if (awaiting_ || (external_ && !state.loaded)) {
        result.wait = true;
        return;
    }
    if (last_id && external_ && may_wait && *last_id > state.last_id) {
        // The client saw a message published elsewhere that has not reached this process yet
        // (it reconnected here faster than Pub/Sub delivered): wait for a catch-up before
        // calling the id foreign.
        result.wait = true;
        result.need_catch_up = true;
        return;
    }
    if (last_id) {
        History::Since since = state.history.since(*last_id, state.last_id);
        result.backlog = std::move(since.messages);
        result.lost = since.lost;
    } else {
        result.backlog = state.history.newest(first_count);
    }
}

Registry::Subscribed Registry::subscribe(std::string_view channel, std::size_t loop,
                                         std::optional<std::uint64_t> last_id,
                                         std::size_t first_count, std::int64_t now_ms) {
    if (loop >= loops_) throw std::out_of_range("push subscriber on a loop the registry lacks");
    Subscribed result;
    std::lock_guard lock(mutex_);
    Channel& state = find_or_create(channel, now_ms);
    state.history.prune(now_ms);
    fill_backlog(state, last_id, first_count, true, result);
    if (result.wait && external_ && !state.loaded && !state.load_requested) {
        state.load_requested = true;
        result.need_sync = true;
    }
    ++state.per_loop[loop];
    ++state.subscribers;
    note_change(channel, state);
    return result;
}

std::optional<Registry::Subscribed> Registry::backlog(std::string_view channel,
                                                      std::optional<std::uint64_t> last_id,
                                                      std::size_t first_count, bool may_wait,
                                                      std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return std::nullopt;
    Channel& state = it->second;
    state.history.prune(now_ms);
    Subscribed result;
    fill_backlog(state, last_id, first_count, may_wait, result);
    return result;
}

std::vector<std::size_t> Registry::load(std::string_view channel, std::vector<MessagePtr> messages,
                                        std::uint64_t last_id, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return {};
    Channel& state = it->second;
    state.history.clear();
    for (auto& message : messages) state.history.append(std::move(message));
    state.history.prune(now_ms);
    state.last_id = last_id;
    state.loaded = true;
    return loops_with_subscribers(state);
}

Registry::Applied Registry::apply_chained(std::string_view channel, const MessagePtr& message,
                                          bool force, std::int64_t now_ms) {
    Applied result;
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end() || !it->second.loaded) return result;
    Channel& state = it->second;
    result.subscribers = state.subscribers;
    if (message->id <= state.last_id && !force) {
        result.chain = Chain::duplicate;
        return result;
    }
    if (message->prev_id != state.last_id && !force) {
        result.chain = Chain::gap;
        return result;
    }
    if (force) state.history.clear();  // the chain starts again at this message
    state.last_id = message->id;
    state.history.append(message);
    state.history.prune(now_ms);
    result.chain = Chain::applied;
    result.loops_to_notify = loops_with_subscribers(state);
    return result;
}

std::vector<std::size_t> Registry::reset(std::string_view channel, std::uint64_t last_id) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return {};
    it->second.history.clear();
    it->second.last_id = last_id;
    return loops_with_subscribers(it->second);
}

std::vector<std::size_t> Registry::loops_of(std::string_view channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return {};
    return loops_with_subscribers(it->second);
}

std::optional<Registry::ChainHead> Registry::head(std::string_view channel) const {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return std::nullopt;
    return ChainHead{it->second.last_id, it->second.loaded};
}

void Registry::unsubscribe(std::string_view channel, std::size_t loop, std::uint64_t incarnation) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return;
    Channel& state = it->second;
    if (incarnation != 0 && incarnation != state.first_id) return;
    if (loop >= state.per_loop.size() || state.per_loop[loop] == 0) return;
    --state.per_loop[loop];
    --state.subscribers;
    note_change(channel, state);
}

std::optional<Registry::Info> Registry::info(std::string_view channel, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return std::nullopt;
    Channel& state = it->second;
    state.history.prune(now_ms);
    return Info{state.subscribers + state.elsewhere, state.last_id, state.history.size()};
}

std::optional<std::vector<std::size_t>> Registry::remove(std::string_view channel) {
    std::lock_guard lock(mutex_);
    auto it = channels_.find(channel);
    if (it == channels_.end()) return std::nullopt;
    std::vector<std::size_t> loops = loops_with_subscribers(it->second);
    retire(it->first, it->second);
    channels_.erase(it);
    return loops;
}

void Registry::prune(std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    for (auto it = channels_.begin(); it != channels_.end();) {
        Channel& state = it->second;
        state.history.prune(now_ms);
        // With external ids the stream keeps the history: a channel nobody here watched for a
        // while is dropped (the backplane then unsubscribes) and loaded again when someone does.
        bool unused = state.subscribers == 0 && state.elsewhere == 0;
        bool drop = unused && state.history.empty();
        if (external_) {
            if (!unused) {
                state.unused_since_ms = 0;
            } else if (state.unused_since_ms == 0) {
                state.unused_since_ms = now_ms;
            }
            drop = unused && now_ms - state.unused_since_ms >= linger_ms_;
        }
        if (drop) {
            retire(it->first, state);
            it = channels_.erase(it);
        } else {
            ++it;
        }
    }
}

void Registry::set_process_count(std::string_view channel, std::size_t process,
                                 std::uint64_t subscribers, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    Channel* state = nullptr;
    if (auto it = channels_.find(channel); it != channels_.end()) {
        state = &it->second;
    } else if (subscribers == 0) {
        return;  // gone (deleted or pruned) and nothing to count: leave it gone
    } else {
        state = &find_or_create(channel, now_ms);
    }
    if (state->per_process.size() <= process) {
        if (subscribers == 0) return;
        state->per_process.resize(process + 1, 0);
    }
    state->elsewhere = state->elsewhere - state->per_process[process] + subscribers;
    state->per_process[process] = subscribers;
}

void Registry::forget_process(std::size_t process) {
    std::lock_guard lock(mutex_);
    for (auto& [name, state] : channels_) {
        if (process < state.per_process.size()) {
            state.elsewhere -= state.per_process[process];
            state.per_process[process] = 0;
        }
    }
}

void Registry::track_count_changes() {
    std::lock_guard lock(mutex_);
    tracking_ = true;
}

std::vector<ChannelCount> Registry::take_count_changes(bool all) {
    std::vector<ChannelCount> counts;
    std::lock_guard lock(mutex_);
    if (all) {
        changed_.clear();
        reported_.clear();
        for (auto& [name, state] : channels_) {
            state.changed = false;
            if (state.subscribers == 0) continue;
            counts.push_back({name, state.subscribers});
            reported_.emplace(name, state.subscribers);
        }
        return counts;
    }
    for (const std::string& name : changed_) {
        std::uint64_t now = 0;  // a channel that is gone has no subscribers
        if (auto it = channels_.find(name); it != channels_.end()) {
            it->second.changed = false;
            now = it->second.subscribers;
        }
        auto told = reported_.find(name);
        std::uint64_t before = told == reported_.end() ? 0 : told->second;
        if (now == before) continue;  // back where it was, or a name listed twice
        counts.push_back({name, now});
        if (now == 0) {
            reported_.erase(told);
        } else if (told == reported_.end()) {
            reported_.emplace(name, now);
        } else {
            told->second = now;
        }
    }
    changed_.clear();
    return counts;
}

std::size_t Registry::channel_count() const {
    std::lock_guard lock(mutex_);
    return channels_.size();
}

}  // namespace c10k::push
