// One keep-alive GET through http::Session (parse, handler, response head, drain), with and
// without a metrics slot: what --admin-listen adds to every request on the hot path.

#include <benchmark/benchmark.h>
#include <sys/uio.h>

#include <string>

#include "http/context.hpp"
#include "http/metrics.hpp"
#include "http/session.hpp"

namespace {

using namespace c10k::http;

class SmallBody final : public Handler {
public:
    void handle(const Request&, Response& response) override {
        response.add_header("Content-Type", "text/plain");
        response.set_body(std::string(128, 'x'));
    }
};

void drain(Session& session) {
    while (session.has_output()) {
        iovec iov[8];
        std::size_t n = session.gather(iov, 8);
        std::size_t total = 0;
        for (std::size_t i = 0; i < n; ++i) total += iov[i].iov_len;
        benchmark::DoNotOptimize(total);
        session.consume(total);
    }
}

void run(benchmark::State& state, bool with_metrics) {
    SmallBody handler;
    LoopContext context(handler, Limits{}, Timeouts{});
    MetricsBoard board(4);
    MetricsSlot slot(with_metrics ? &board : nullptr);
    context.set_metrics(slot.get());
    Session session(context);
    const std::string request = "GET /bench/128.txt HTTP/1.1\r\nHost: bench\r\n\r\n";
    for (auto _ : state) {
        session.feed(request.data(), request.size());
        drain(session);
    }
    if (with_metrics) {
        state.counters["counted"] =
            static_cast<double>(board.totals().responses[200 - LoopMetrics::kFirstStatus]);
    }
}

void BM_RequestWithoutMetrics(benchmark::State& state) { run(state, false); }
void BM_RequestWithMetrics(benchmark::State& state) { run(state, true); }

BENCHMARK(BM_RequestWithoutMetrics);
BENCHMARK(BM_RequestWithMetrics);

}  // namespace
