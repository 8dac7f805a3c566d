#include "push/hub.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "push/backplane.hpp"
#include "push/handler.hpp"

namespace c10k::push {

namespace {

RegistryOptions with_external(RegistryOptions options, bool external) {
    options.external = external;
    return options;
}

}  // namespace

Hub::Hub(PushOptions options, RegistryOptions registry_options)
    : options_(std::move(options)),
      registry_(with_external(registry_options, options_.redis.has_value())),
      loops_(registry_options.loops) {
    // The backplane subscribes in Redis to the channels with subscribers here, and leaves those
    // that have none: it learns which from the count changes.
    if (external()) registry_.track_count_changes();
}

void Hub::attach(std::size_t loop, PushHandler& handler, core::Mailbox& mailbox) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (loop >= loops_.size()) loops_.resize(loop + 1);
    loops_[loop] = Slot{&handler, &mailbox};
}

void Hub::detach(std::size_t loop) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (loop < loops_.size()) loops_[loop] = Slot{};
}

Registry::Published Hub::publish(std::string_view channel, std::string event, std::string data,
                                 std::string content_type) {
    // The id is assigned and the posts made under one lock: were they apart, two publishers on
    // two loops could post ids 6 and 5 to a third loop (or process) in that order.
    std::lock_guard<std::mutex> lock(mutex_);
    if (refusing_.load(std::memory_order_relaxed)) return {};  // a handover: see hand_over()
    Registry::Published published = registry_.publish(channel, std::move(event), std::move(data),
                                                      std::move(content_type), core::wall_ms());
    post_delivery(channel, published.message, published.loops_to_notify);
    if (!downstream_.empty()) {
        std::string frame;
        encode_publish(frame, channel, *published.message);
        send_downstream(frame);
    }
    return published;
}

bool Hub::remove(std::string_view channel) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto loops = registry_.remove(channel);
    if (!downstream_.empty()) {
        // Other processes may hold subscribers on it even where this one has none.
        std::string frame;
        encode_remove(frame, channel);
        send_downstream(frame);
    }
    if (!loops) return false;
    post_close(channel, *loops);
    return true;
}

void Hub::post_delivery(std::string_view channel, const MessagePtr& message,
                        const std::vector<std::size_t>& loops) {
    if (loops.empty()) return;
    // One copy of the name for all loops; each task shares it and the message.
    auto name = std::make_shared<const std::string>(channel);
    for (std::size_t loop : loops) {
        if (loop >= loops_.size() || loops_[loop].handler == nullptr) continue;
        PushHandler* handler = loops_[loop].handler;
        loops_[loop].mailbox->post([handler, name, message] { handler->deliver(*name, message); });
    }
}

void Hub::post_close(std::string_view channel, const std::vector<std::size_t>& loops) {
    auto name = std::make_shared<const std::string>(channel);
    for (std::size_t loop : loops) {
        if (loop >= loops_.size() || loops_[loop].handler == nullptr) continue;
        PushHandler* handler = loops_[loop].handler;
        loops_[loop].mailbox->post([handler, name] { handler->close_channel(*name); });
    }
}

void Hub::to_backplane(std::function<void(Backplane&)> task) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (loops_.empty() || loops_[0].handler == nullptr) return;
    PushHandler* handler = loops_[0].handler;
    loops_[0].mailbox->post([handler, task = std::move(task)] {
        if (Backplane* backplane = handler->backplane()) task(*backplane);
    });
}

void Hub::post_to_loop(std::size_t loop, std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (loop >= loops_.size() || loops_[loop].handler == nullptr) return;
    loops_[loop].mailbox->post(std::move(task));
}

void Hub::request_sync(std::string_view channel) {
    to_backplane([name = std::string(channel)](Backplane& backplane) { backplane.sync(name); });
}

void Hub::request_catch_up(std::string_view channel) {
    to_backplane([name = std::string(channel)](Backplane& backplane) { backplane.catch_up(name); });
}

Registry::Applied Hub::deliver_chained(std::string_view channel, const MessagePtr& message,
                                       bool force) {
    std::lock_guard<std::mutex> lock(mutex_);
    Registry::Applied applied = registry_.apply_chained(channel, message, force, core::wall_ms());
    post_delivery(channel, message, applied.loops_to_notify);
    return applied;
}

void Hub::loaded(std::string_view channel, std::vector<MessagePtr> messages,
                 std::uint64_t last_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    post_ready(channel, registry_.load(channel, std::move(messages), last_id, core::wall_ms()),
               last_id);
}

void Hub::post_ready(std::string_view channel) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto head = registry_.head(channel);
    if (!head) return;
    post_ready(channel, registry_.loops_of(channel), head->last_id);
}

void Hub::lost(std::string_view channel, std::uint64_t first_id, std::uint64_t last_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto name = std::make_shared<const std::string>(channel);
    for (std::size_t loop : registry_.reset(channel, last_id)) {
        if (loop >= loops_.size() || loops_[loop].handler == nullptr) continue;
        PushHandler* handler = loops_[loop].handler;
        loops_[loop].mailbox->post([handler, name, first_id, last_id] {
            handler->history_lost(*name, first_id, last_id);
        });
    }
}

bool Hub::remove_local(std::string_view channel) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto loops = registry_.remove(channel);
    if (!loops) return false;
    post_close(channel, *loops);
    return true;
}

void Hub::post_ready(std::string_view channel, const std::vector<std::size_t>& loops,
                     std::uint64_t last_id) {
    auto name = std::make_shared<const std::string>(channel);
    for (std::size_t loop : loops) {
        if (loop >= loops_.size() || loops_[loop].handler == nullptr) continue;
        PushHandler* handler = loops_[loop].handler;
        loops_[loop].mailbox->post(
            [handler, name, last_id] { handler->channel_ready(*name, last_id); });
    }
}

void Hub::join_group(std::size_t index, std::string link_name, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    process_index_ = index;
    group_size_ = size;
    link_name_ = std::move(link_name);
    // The other processes report their subscriber counts to the sequencer.
    if (index != 0) registry_.track_count_changes();
}

std::size_t Hub::add_downstream(core::unique_fd link) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Reuse the slot of a process that went away, so a restarting group does not grow the list.
    for (std::size_t slot = 0; slot < downstream_.size(); ++slot) {
        if (!downstream_[slot].fd) {
            downstream_[slot] = Downstream{std::move(link), false};
            return slot;
        }
    }
    downstream_.push_back(Downstream{std::move(link), false});
    return downstream_.size() - 1;
}

bool Hub::apply_counts(std::size_t link, const std::vector<GroupFrame>& frames) {
    // No mutex_: the Registry has its own lock, and only loop 0 reads links and closes them, so
    // the link's number cannot be handed to another process meanwhile.
    std::int64_t now = core::wall_ms();
    for (const GroupFrame& frame : frames) {
        if (frame.kind != GroupFrame::Kind::counts) return false;
        for (const ChannelCount& count : frame.counts) {
            registry_.set_process_count(count.channel, link, count.subscribers, now);
        }
    }
    return true;
}

void Hub::close_downstream(std::size_t link) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (link < downstream_.size()) downstream_[link] = Downstream{};
    }
    // After the slot is free a new link may take its number, but only loop 0 (this caller)
    // reports counts for it, and only after this returns.
    registry_.forget_process(link);
}

void Hub::send_downstream(const std::string& frame) {
    // Blocking writes, under the lock that orders publishes: the other processes are ours and
    // read their link on every loop iteration, and each link buffers megabytes, so this waits
    // only when a process is stuck; then publishing waits rather than lose messages silently.
    for (auto& link : downstream_) {
        if (!link.fd || link.broken) continue;
        std::size_t sent = 0;
        while (sent < frame.size()) {
            ssize_t n =
                ::send(link.fd.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                core::log(core::LogLevel::error,
                          "push: lost the link to a server process ({}); its subscribers get no "
                          "more messages",
                          std::strerror(errno));
                // Loop 0 watches this descriptor: it reads the shutdown as the end and closes.
                ::shutdown(link.fd.get(), SHUT_RDWR);
                link.broken = true;
                break;
            }
            sent += static_cast<std::size_t>(n);
        }
    }
}

void Hub::apply(std::vector<GroupFrame>& frames) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::int64_t now = core::wall_ms();
    for (auto& frame : frames) {
        if (frame.kind == GroupFrame::Kind::counts) continue;  // GroupMember refuses these
        if (frame.kind == GroupFrame::Kind::publish) {
            auto applied = registry_.apply(frame.channel, frame.message, now);
            post_delivery(frame.channel, applied.message, applied.loops_to_notify);
        } else if (auto loops = registry_.remove(frame.channel)) {
            post_close(frame.channel, *loops);
        }
    }
}

void Hub::upstream_lost() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& slot : loops_) {
        if (slot.handler == nullptr) continue;
        PushHandler* handler = slot.handler;
        slot.mailbox->post([handler] { handler->close_all(); });
    }
}

}  // namespace c10k::push
