#include "serve/synthetic_cost.hpp"

#include <time.h>

#include <charconv>
#include <utility>

namespace c10k::serve {

namespace {

std::int64_t thread_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

bool parse_cost_us(std::string_view text, std::int64_t& us) {
    if (text.empty() || text.size() > 10) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return false;
    if (value > SyntheticCost::kMaxCostUs) return false;
    us = value;
    return true;
}

void burn_cpu_us(std::int64_t us) {
    std::int64_t until = thread_cpu_ns() + us * 1000;
    // The clock read is itself the work: a vDSO call of a few tens of nanoseconds per turn.
    while (thread_cpu_ns() < until) {
    }
}

SyntheticCost::SyntheticCost(std::string prefix, std::unique_ptr<http::Handler> inner)
    : prefix_(std::move(prefix)), inner_(std::move(inner)) {}

bool SyntheticCost::answers_off_loop(const http::Request& request) const {
    return request.path().substr(0, prefix_.size()) == prefix_ || inner_->answers_off_loop(request);
}

void SyntheticCost::handle(const http::Request& request, http::Response& response) {
    std::string_view path = request.path();
    if (path.substr(0, prefix_.size()) != prefix_) {
        inner_->handle(request, response);
        return;
    }
    std::int64_t us = 0;
    if (request.method != http::Method::get && request.method != http::Method::head) {
        response.set_status(405);
        response.add_header("Allow", "GET, HEAD");
        response.add_header("Content-Type", "text/plain; charset=utf-8");
        response.set_body("synthetic cost: GET only\n");
        return;
    }
    if (!parse_cost_us(path.substr(prefix_.size()), us)) {
        response.set_status(400);
        response.add_header("Content-Type", "text/plain; charset=utf-8");
        response.set_body(
            "synthetic cost: give whole microseconds after the prefix, at most 1000000\n");
        return;
    }
    burn_cpu_us(us);
    response.set_status(200);
    response.add_header("Content-Type", "text/plain; charset=utf-8");
    response.add_header("Cache-Control", "no-store");
    response.set_body("burned " + std::to_string(us) + " us\n");
}

}  // namespace c10k::serve
