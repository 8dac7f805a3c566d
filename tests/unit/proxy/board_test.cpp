// The proxy's counters board: each writer's slot, sums over slots, gauges as differences, and
// the counts of a forked child in the same sum.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "proxy/board.hpp"

namespace c10k::proxy {
namespace {

TEST(PoolBoard, SumsEveryWritersSlotPerServer) {
    PoolBoard board("cgi", {"a:1", "b:1"}, 8);
    PoolBoard::Slot one = board.claim();
    PoolBoard::Slot two = board.claim();
    ASSERT_NE(one.pool, two.pool);
    one.servers[0].requests.add(3);
    one.servers[0].finished.add(2);
    two.servers[0].requests.add(1);
    two.servers[1].connects.add(4);
    two.servers[1].closes.add(1);
    one.pool->queue_full.add();
    PoolTotals t = board.totals();
    EXPECT_EQ(t.name, "cgi");
    ASSERT_EQ(t.servers.size(), 2u);
    EXPECT_EQ(t.servers[0].name, "a:1");
    EXPECT_EQ(t.servers[0].requests, 4u);
    EXPECT_EQ(t.servers[0].in_flight, 2u);
    EXPECT_EQ(t.servers[1].connects, 4u);
    EXPECT_EQ(t.servers[1].connections, 3u);
    EXPECT_EQ(t.queue_full, 1u);
    // A released slot keeps its counts, and the next writer goes on from them.
    board.release(one);
    PoolBoard::Slot three = board.claim();
    EXPECT_EQ(three.pool, one.pool);
    EXPECT_EQ(board.totals().servers[0].requests, 4u);
}

TEST(PoolBoard, AForkedWritersCountsAreInTheSum) {
    PoolBoard board("default", {"a:1"}, 8);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        PoolBoard::Slot slot = board.claim();
        slot.servers[0].responses.add(7);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_EQ(board.totals().servers[0].responses, 7u);
}

}  // namespace
}  // namespace c10k::proxy
