#include "push/hub.hpp"

#include "core/clock.hpp"
#include "push/handler.hpp"

namespace c10k::push {

Hub::Hub(PushOptions options, RegistryOptions registry_options)
    : options_(std::move(options)), registry_(registry_options), loops_(registry_options.loops) {}

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
    // two loops could post ids 6 and 5 to a third loop in that order.
    std::lock_guard<std::mutex> lock(mutex_);
    Registry::Published published = registry_.publish(channel, std::move(event), std::move(data),
                                                      std::move(content_type), core::wall_ms());
    if (published.loops_to_notify.empty()) return published;
    // One copy of the name for all loops; each task shares it and the message.
    auto name = std::make_shared<const std::string>(channel);
    for (std::size_t loop : published.loops_to_notify) {
        if (loop >= loops_.size() || loops_[loop].handler == nullptr) continue;
        PushHandler* handler = loops_[loop].handler;
        MessagePtr message = published.message;
        loops_[loop].mailbox->post([handler, name, message] { handler->deliver(*name, message); });
    }
    return published;
}

bool Hub::remove(std::string_view channel) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto loops = registry_.remove(channel);
    if (!loops) return false;
    auto name = std::make_shared<const std::string>(channel);
    for (std::size_t loop : *loops) {
        if (loop >= loops_.size() || loops_[loop].handler == nullptr) continue;
        PushHandler* handler = loops_[loop].handler;
        loops_[loop].mailbox->post([handler, name] { handler->close_channel(*name); });
    }
    return true;
}

}  // namespace c10k::push
