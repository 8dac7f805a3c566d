// The MetricsBoard: slots claimed and released, sums across slots and across a fork, and what
// a Session counts into its loop's slot.

#include "http/metrics.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "http/context.hpp"
#include "http/session.hpp"
#include "unit/http/drain.hpp"

namespace c10k::http {
namespace {

TEST(MetricsBoard, SumsEverySlotAndKeepsCountsOfReleasedSlots) {
    MetricsBoard board(8);
    LoopMetrics* a = board.claim();
    LoopMetrics* b = board.claim();
    ASSERT_NE(a, b);
    a->count_status(200);
    b->count_status(200);
    b->count_status(404);
    a->bytes_sent.add(100);
    b->bytes_sent.add(23);
    EXPECT_EQ(board.totals().writers, 2u);
    board.release(a);
    // A released slot's counts stay in the sums, and its next writer adds to them.
    MetricsTotals totals = board.totals();
    EXPECT_EQ(totals.writers, 1u);
    EXPECT_EQ(totals.responses[200 - LoopMetrics::kFirstStatus], 2u);
    EXPECT_EQ(totals.responses[404 - LoopMetrics::kFirstStatus], 1u);
    EXPECT_EQ(totals.bytes_sent, 123u);
    LoopMetrics* again = board.claim();
    EXPECT_EQ(again, a);  // lowest free slot first
    again->bytes_sent.add(1);
    EXPECT_EQ(board.totals().bytes_sent, 124u);
}

TEST(MetricsBoard, StatusesOutsideHttpsRangeAreNotCounted) {
    MetricsBoard board(2);
    LoopMetrics* slot = board.claim();
    slot->count_status(99);
    slot->count_status(600);
    slot->count_status(599);
    MetricsTotals totals = board.totals();
    std::uint64_t all = 0;
    for (auto n : totals.responses) all += n;
    EXPECT_EQ(all, 1u);
}

TEST(MetricsBoard, WhenEverySlotIsHeldWritersShareTheLast) {
    MetricsBoard board(3);
    LoopMetrics* first = board.claim();
    LoopMetrics* second = board.claim();
    LoopMetrics* third = board.claim();
    LoopMetrics* fourth = board.claim();
    EXPECT_NE(first, second);
    EXPECT_EQ(third, fourth);
    EXPECT_EQ(board.totals().writers, 4u);
    board.release(fourth);
    board.release(third);
    EXPECT_EQ(board.totals().writers, 2u);
}

TEST(MetricsBoard, LatencyGoesToTheFirstBucketItFits) {
    MetricsBoard board(2);
    LoopMetrics* slot = board.claim();
    slot->count_latency(0);
    slot->count_latency(1);
    slot->count_latency(2);
    slot->count_latency(20'000);
    MetricsTotals totals = board.totals();
    EXPECT_EQ(totals.latency[0], 2u);                    // le 1 ms
    EXPECT_EQ(totals.latency[1], 1u);                    // le 2 ms
    EXPECT_EQ(totals.latency[kLatencyBuckets - 1], 1u);  // +Inf
    EXPECT_EQ(totals.latency_sum_ms, 20'003u);
}

TEST(MetricsBoard, AChildProcessCountsIntoTheParentsBoard) {
    MetricsBoard board(4);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        LoopMetrics* slot = board.claim();
        slot->count_status(503);
        slot->connections_opened.add(7);
        board.release(slot);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    MetricsTotals totals = board.totals();
    EXPECT_EQ(totals.responses[503 - LoopMetrics::kFirstStatus], 1u);
    EXPECT_EQ(totals.connections_opened, 7u);
    EXPECT_EQ(totals.writers, 0u);
}

class PlainHandler : public Handler {
public:
    void handle(const Request& request, Response& response) override {
        if (request.path() == "/missing") {
            response.set_status(404);
            response.set_body("no");
            return;
        }
        response.set_body("hello");
    }
};

TEST(MetricsBoard, ASessionCountsResponsesBytesAndErrors) {
    MetricsBoard board(2);
    MetricsSlot slot(&board);
    PlainHandler handler;
    LoopContext context(handler, Limits{}, Timeouts{});
    context.set_metrics(slot.get());
    std::string in = "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /missing HTTP/1.1\r\nHost: h\r\n\r\n";
    std::string out;
    {
        Session session(context);
        session.feed(in.data(), in.size());
        out = drain(session);
        MetricsTotals totals = board.totals();
        EXPECT_EQ(totals.connections_opened, 1u);
        EXPECT_EQ(totals.connections_closed, 0u);
    }
    {
        Session bad(context);
        std::string garbage = "NOT HTTP\r\n\r\n";
        bad.feed(garbage.data(), garbage.size());
        out += drain(bad);
        in += garbage;
    }
    MetricsTotals totals = board.totals();
    EXPECT_EQ(totals.responses[200 - LoopMetrics::kFirstStatus], 1u);
    EXPECT_EQ(totals.responses[404 - LoopMetrics::kFirstStatus], 1u);
    EXPECT_EQ(totals.responses[400 - LoopMetrics::kFirstStatus], 1u);
    EXPECT_EQ(totals.protocol_errors, 1u);
    EXPECT_EQ(totals.bytes_received, in.size());
    EXPECT_EQ(totals.bytes_sent, out.size());
    EXPECT_EQ(totals.connections_opened, 2u);
    EXPECT_EQ(totals.connections_closed, 2u);
    std::uint64_t latencies = 0;
    for (auto n : totals.latency) latencies += n;
    EXPECT_EQ(latencies, 3u);
}

}  // namespace
}  // namespace c10k::http
