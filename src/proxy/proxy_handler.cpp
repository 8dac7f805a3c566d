#include "proxy/proxy_handler.hpp"

#include <algorithm>

#include "proxy/exchange.hpp"
#include "proxy/health_checker.hpp"
#include "proxy/upstream.hpp"

namespace c10k::proxy {

ProxyHandler::ProxyHandler(ProxyOptions options)
    : options_(std::move(options)),
      pool_(options_.pool, options_.health_board.get()),
      idle_(options_.pool.servers.size()),
      read_buffer_(64 * 1024),
      retry_budget_(options_.retry.budget_percent, options_.retry.budget_min) {
    for (const auto& server : options_.pool.servers) {
        if (server.proxy_protocol != 0) sends_proxy_protocol_ = true;
        if (!options_.sticky.enabled()) continue;
        sticky_values_.push_back(sticky_value(server.name));
        set_cookies_.push_back(set_cookie_text(options_.sticky, sticky_values_.back()));
    }
    if (!options_.board) {
        std::vector<std::string> names;
        for (const auto& server : options_.pool.servers) names.push_back(server.name);
        options_.board = std::make_shared<PoolBoard>("default", std::move(names), 1);
    }
}

int ProxyHandler::sticky_server(std::string_view value) const {
    // A pool has at most 64 servers: a scan of short strings beats building a map per loop.
    for (std::size_t i = 0; i < sticky_values_.size(); ++i) {
        if (sticky_values_[i] == value) return static_cast<int>(i);
    }
    return -1;
}

const sockaddr_storage& ProxyHandler::listener_address(std::uint8_t index) const {
    if (index < options_.listeners.size()) return options_.listeners[index].address;
    return unknown_address_;
}

ProxyHandler::~ProxyHandler() = default;

void ProxyHandler::on_loop_start(http::LoopContext& context) {
    context_ = &context;
    // Claimed here, in the loop's own thread or process (a prefork worker's handler was made
    // before the fork): each writer its own slot.
    slot_ = options_.board->claim();
    // One loop checks for the whole process: N loops checking would send N times the traffic
    // and disagree for an interval about what is up.
    if (context.loop_index() == 0 && options_.health_board &&
        options_.pool.health.kind != HealthCheck::Kind::off && context.descriptors() != nullptr) {
        checker_ = std::make_unique<HealthChecker>(context, options_.pool, options_.pool.health,
                                                   *options_.health_board, slot_.servers);
    }
}

void ProxyHandler::on_loop_stop(http::LoopContext&) {
    checker_.reset();
    // Every client connection is gone, and with it every exchange but those draining a
    // response nobody waits for.
    while (!draining_.empty()) draining_.back()->abandon();
    for (auto& list : idle_) list.clear();
    // The next holder of the slot has ejected nothing yet (ejections count on in `ejections`).
    for (std::size_t i = 0; i < pool_.size(); ++i) {
        slot_.servers[i].ejected_until_ms.store(0, std::memory_order_relaxed);
    }
    options_.board->release(slot_);
}

std::unique_ptr<ResponseParser> ProxyHandler::take_parser() {
    if (parser_pool_.empty()) return std::make_unique<ResponseParser>();
    std::unique_ptr<ResponseParser> parser = std::move(parser_pool_.back());
    parser_pool_.pop_back();
    return parser;
}

void ProxyHandler::give_parser(std::unique_ptr<ResponseParser> parser) {
    // As many as were ever in flight at once, up to a bound: a burst must not pin memory.
    if (parser && parser_pool_.size() < 256) parser_pool_.push_back(std::move(parser));
}

std::string ProxyHandler::take_bytes() {
    if (bytes_pool_.empty()) return {};
    std::string bytes = std::move(bytes_pool_.back());
    bytes_pool_.pop_back();
    bytes.clear();
    return bytes;
}

void ProxyHandler::give_bytes(std::string&& bytes) {
    // Only request-sized buffers: one that held a large upload goes back to the allocator.
    if (bytes.capacity() != 0 && bytes.capacity() <= 16 * 1024 && bytes_pool_.size() < 256)
        bytes_pool_.push_back(std::move(bytes));
}

void ProxyHandler::stop_draining(Exchange& exchange) {
    auto it = std::find(draining_.begin(), draining_.end(), &exchange);
    if (it != draining_.end()) draining_.erase(it);
}

void ProxyHandler::handle(const http::Request& request, http::Response& response) {
    proxy(request, response, false);
}

void ProxyHandler::proxy(const http::Request& request, http::Response& response,
                         bool retry_non_idempotent) {
    if (context_ == nullptr || context_->descriptors() == nullptr || pool_.size() == 0) {
        response.set_status(502);
        response.add_header("Content-Type", "text/plain; charset=utf-8");
        response.set_body("c10k proxy: no backend server is configured\n");
        return;
    }
    auto* exchange = new Exchange(*this, request, retry_non_idempotent);
    exchange->begin(response.defer(*exchange));
}

bool ProxyHandler::enqueue(Exchange& exchange) {
    if (queue_.size() >= options_.queue_size) return false;
    pool_counters().queued.add();
    queue_.push_back(&exchange);
    return true;
}

void ProxyHandler::unqueue(Exchange& exchange) {
    auto it = std::find(queue_.begin(), queue_.end(), &exchange);
    if (it != queue_.end()) queue_.erase(it);
}

void ProxyHandler::exchange_ended() {
    --exchanges_;
    wake_queued();
}

void ProxyHandler::wake_queued() {
    // An attempt may end at once and free a connection, which calls here again: the loop below
    // goes on instead.
    if (waking_) return;
    waking_ = true;
    while (!queue_.empty()) {
        Exchange* next = queue_.front();
        int server = next->choose();
        if (server == Exchange::kAllFull) break;  // still no room: the queue keeps its order
        queue_.pop_front();
        next->leave_queue(server);
    }
    waking_ = false;
}

std::unique_ptr<Upstream> ProxyHandler::take_idle(std::size_t server) {
    auto& list = idle_[server];
    if (list.empty()) return nullptr;
    std::unique_ptr<Upstream> upstream = std::move(list.back());
    list.pop_back();
    upstream->cancel_timer();
    return upstream;
}

void ProxyHandler::keep_idle(std::unique_ptr<Upstream> upstream) {
    auto& list = idle_[upstream->server()];
    if (list.size() >= options_.max_idle_per_server) {
        // The oldest goes: it is the likeliest to be closed by the server soon.
        list.erase(list.begin());
    }
    upstream->attach(nullptr);
    // Watched for reading while idle: a server that closes it is noticed (and the connection
    // dropped) now, not when the next request finds it dead.
    if (!upstream->watch(http::DescriptorTask::readable)) return;
    upstream->arm_timer(context_->now_ms() + options_.idle_timeout_ms);
    list.push_back(std::move(upstream));
}

void ProxyHandler::drop_idle(Upstream& upstream) {
    auto& list = idle_[upstream.server()];
    auto it = std::find_if(list.begin(), list.end(),
                           [&upstream](const auto& entry) { return entry.get() == &upstream; });
    if (it != list.end()) list.erase(it);
    wake_queued();
}

}  // namespace c10k::proxy
