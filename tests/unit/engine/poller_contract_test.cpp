// The Poller contract (engine/poller.hpp), checked against every readiness backend: what one
// promises, all must keep, since the one ReadinessLoop runs over each of them.

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/unique_fd.hpp"
#include "engine/poller_epoll.hpp"
#include "engine/pollers.hpp"

namespace c10k::engine {
namespace {

struct PollerCase {
    std::string name;
    std::function<std::unique_ptr<Poller>()> make;
};

std::vector<PollerCase> pollers() {
    return {
        {"epoll", [] { return make_epoll_poller(true); }},
        {"epoll_lt", [] { return make_epoll_poller(false); }},
        {"poll", [] { return make_poll_poller(); }},
        {"select", [] { return make_select_poller(); }},
        {"sigio", []() -> std::unique_ptr<Poller> { return make_sigio_poller(); }},
    };
}

struct Pair {
    core::unique_fd ours, theirs;
};

Pair socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    return Pair{core::unique_fd(fds[0]), core::unique_fd(fds[1])};
}

class PollerContract : public ::testing::TestWithParam<PollerCase> {
protected:
    void SetUp() override { poller_ = GetParam().make(); }

    /// Waits (up to 2 s in all) until `tag` is reported; returns its events, 0 if never.
    std::uint32_t wait_for(void* tag) {
        std::int64_t until = core::monotonic_ms() + 2000;
        Poller::Event events[64];
        while (core::monotonic_ms() < until) {
            auto n = poller_->wait(events, 64, 100);
            EXPECT_TRUE(n.ok());
            for (int i = 0; n.ok() && i < *n; ++i) {
                if (events[i].tag == tag) return events[i].events;
            }
        }
        return 0;
    }

    /// Tags reported by waits over about 300 ms.
    std::vector<void*> reported_over_a_while() {
        std::vector<void*> tags;
        Poller::Event events[64];
        for (int round = 0; round < 3; ++round) {
            auto n = poller_->wait(events, 64, 100);
            EXPECT_TRUE(n.ok());
            for (int i = 0; n.ok() && i < *n; ++i) tags.push_back(events[i].tag);
        }
        return tags;
    }

    std::unique_ptr<Poller> poller_;
};

TEST_P(PollerContract, ReportsDataArrivingOnAWatchedSocket) {
    Pair pair = socket_pair();
    int tag = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable, &tag).ok());
    ASSERT_EQ(::write(pair.theirs.get(), "x", 1), 1);
    EXPECT_TRUE(wait_for(&tag) & Poller::in);
}

TEST_P(PollerContract, ReportsReadinessThatPredatesAdd) {
    Pair pair = socket_pair();
    ASSERT_EQ(::write(pair.theirs.get(), "x", 1), 1);
    int tag = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable, &tag).ok());
    EXPECT_TRUE(wait_for(&tag) & Poller::in);
}

TEST_P(PollerContract, ReportsNothingForAQuietSocket) {
    Pair pair = socket_pair();
    int tag = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable, &tag).ok());
    for (void* reported : reported_over_a_while()) EXPECT_NE(reported, &tag);
}

TEST_P(PollerContract, ReportsWritableWhenAskedTo) {
    Pair pair = socket_pair();
    int tag = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable | Poller::writable, &tag).ok());
    EXPECT_TRUE(wait_for(&tag) & Poller::out);
}

TEST_P(PollerContract, ModifyChangesTheTagThatComesBack) {
    Pair pair = socket_pair();
    int first = 0;
    int second = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable, &first).ok());
    ASSERT_TRUE(poller_->modify(pair.ours.get(), Poller::readable, &second).ok());
    ASSERT_EQ(::write(pair.theirs.get(), "x", 1), 1);
    EXPECT_TRUE(wait_for(&second) & Poller::in);
}

TEST_P(PollerContract, RemovedDescriptorsAreNotReported) {
    Pair pair = socket_pair();
    Pair other = socket_pair();
    int tag = 0;
    int other_tag = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable, &tag).ok());
    ASSERT_TRUE(poller_->add(other.ours.get(), Poller::readable, &other_tag).ok());
    poller_->remove(pair.ours.get());
    ASSERT_EQ(::write(pair.theirs.get(), "x", 1), 1);
    ASSERT_EQ(::write(other.theirs.get(), "y", 1), 1);
    EXPECT_TRUE(wait_for(&other_tag) & Poller::in);
    for (void* reported : reported_over_a_while()) EXPECT_NE(reported, &tag);
}

TEST_P(PollerContract, ReportsExactlyTheReadyOnesAmongMany) {
    constexpr int kCount = 200;
    std::vector<Pair> pairs;
    std::vector<int> tags(kCount);
    for (int i = 0; i < kCount; ++i) {
        pairs.push_back(socket_pair());
        ASSERT_TRUE(poller_->add(pairs.back().ours.get(), Poller::readable, &tags[i]).ok());
    }
    // Removing some from the middle exercises the dense arrays' swap-with-last.
    for (int i = 0; i < kCount; i += 7) poller_->remove(pairs[i].ours.get());
    for (int i = 0; i < kCount; i += 3) ASSERT_EQ(::write(pairs[i].theirs.get(), "x", 1), 1);
    std::vector<bool> seen(kCount, false);
    std::int64_t until = core::monotonic_ms() + 3000;
    Poller::Event events[16];  // fewer than are ready: the rest must come in later waits
    int wanted = 0;
    for (int i = 0; i < kCount; i += 3) wanted += (i % 7 != 0);
    int found = 0;
    while (found < wanted && core::monotonic_ms() < until) {
        auto n = poller_->wait(events, 16, 100);
        ASSERT_TRUE(n.ok());
        for (int e = 0; e < *n; ++e) {
            auto index = static_cast<int*>(events[e].tag) - tags.data();
            ASSERT_GE(index, 0);
            ASSERT_LT(index, kCount);
            EXPECT_EQ(index % 3, 0) << "reported a socket with nothing to read";
            EXPECT_NE(index % 7, 0) << "reported a removed socket";
            if (!seen[index]) ++found;
            seen[index] = true;
            if (poller_->edge_triggered()) {
                char c;
                (void)!::read(pairs[index].ours.get(), &c, 1);  // consume, as the loop would
            }
        }
    }
    EXPECT_EQ(found, wanted);
}

TEST_P(PollerContract, LevelTriggeredRepeatsAndEdgeTriggeredDoesNot) {
    Pair pair = socket_pair();
    int tag = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable, &tag).ok());
    ASSERT_EQ(::write(pair.theirs.get(), "x", 1), 1);
    ASSERT_TRUE(wait_for(&tag) & Poller::in);
    // Not read: a level-triggered poller says so again, an edge-triggered one stays quiet
    // until something new happens.
    bool again = false;
    for (void* reported : reported_over_a_while()) again = again || reported == &tag;
    EXPECT_EQ(again, !poller_->edge_triggered());
}

TEST_P(PollerContract, WorksWithPipesToo) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    core::unique_fd read_end(fds[0]), write_end(fds[1]);
    int tag = 0;
    ASSERT_TRUE(poller_->add(read_end.get(), Poller::readable, &tag).ok());
    ASSERT_EQ(::write(write_end.get(), "x", 1), 1);
    EXPECT_TRUE(wait_for(&tag) & Poller::in);
}

TEST_P(PollerContract, ReportsAHangUp) {
    Pair pair = socket_pair();
    int tag = 0;
    ASSERT_TRUE(poller_->add(pair.ours.get(), Poller::readable, &tag).ok());
    pair.theirs.reset();
    // select has no hang-up bit: a closed peer shows as readable (read then returns 0).
    EXPECT_TRUE(wait_for(&tag) & (Poller::in | Poller::hangup));
}

INSTANTIATE_TEST_SUITE_P(AllPollers, PollerContract, ::testing::ValuesIn(pollers()),
                         [](const auto& info) { return info.param.name; });

TEST(SelectPoller, RefusesDescriptorsAtOrAboveFdSetsize) {
    auto poller = make_select_poller();
    EXPECT_EQ(poller->max_fd(), FD_SETSIZE);
    core::unique_fd high(::fcntl(0, F_DUPFD_CLOEXEC, FD_SETSIZE));
    if (!high) high.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // 0 may be closed
    core::unique_fd moved(::fcntl(high.get(), F_DUPFD_CLOEXEC, FD_SETSIZE));
    ASSERT_TRUE(moved) << "RLIMIT_NOFILE must allow descriptors above FD_SETSIZE";
    ASSERT_GE(moved.get(), FD_SETSIZE);
    int tag = 0;
    auto added = poller->add(moved.get(), Poller::readable, &tag);
    EXPECT_FALSE(added.ok());
    EXPECT_EQ(added.error(), EBADF);
}

}  // namespace
}  // namespace c10k::engine
