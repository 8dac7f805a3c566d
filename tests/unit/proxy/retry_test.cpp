// What a request is retried on and how many retries a loop lets run (proxy/retry.hpp).

#include "proxy/retry.hpp"

#include <gtest/gtest.h>

#include <string>

namespace c10k::proxy {
namespace {

TEST(RetryOn, ListsParseIntoConditions) {
    RetryPolicy policy;
    std::string error;
    EXPECT_EQ(policy.on, RetryPolicy::kError);
    ASSERT_TRUE(parse_retry_on("timeout,503", policy, error)) << error;
    EXPECT_EQ(policy.on, RetryPolicy::kTimeout | RetryPolicy::k503);
    EXPECT_TRUE(policy.retries_status(503));
    EXPECT_FALSE(policy.retries_status(502));
    EXPECT_FALSE(policy.retries_status(500));
    ASSERT_TRUE(parse_retry_on("5xx", policy, error)) << error;
    EXPECT_TRUE(policy.retries_status(500));
    EXPECT_TRUE(policy.retries_status(599));
    EXPECT_FALSE(policy.retries_status(404));
    EXPECT_FALSE(policy.retries_status(200));
    ASSERT_TRUE(parse_retry_on("none", policy, error)) << error;
    EXPECT_EQ(policy.on, 0);
}

TEST(RetryOn, BadListsSayWhatIsWrong) {
    RetryPolicy policy;
    std::string error;
    EXPECT_FALSE(parse_retry_on("error,reset", policy, error));
    EXPECT_NE(error.find("unknown condition 'reset'"), std::string::npos) << error;
    EXPECT_FALSE(parse_retry_on("error,none", policy, error));
    EXPECT_NE(error.find("none cannot be combined"), std::string::npos) << error;
    EXPECT_FALSE(parse_retry_on("error,", policy, error));
    EXPECT_FALSE(parse_retry_on("", policy, error));
    EXPECT_EQ(policy.on, RetryPolicy::kError);  // untouched by a refusal
}

TEST(RetryBudget, FloorThenShareOfRequestsInFlight) {
    RetryBudget budget(20, 3);
    // Few requests in flight: the floor of 3.
    EXPECT_TRUE(budget.try_acquire(2));
    EXPECT_TRUE(budget.try_acquire(2));
    EXPECT_TRUE(budget.try_acquire(2));
    EXPECT_FALSE(budget.try_acquire(2));
    // 20 in flight: 20% is 4.
    EXPECT_TRUE(budget.try_acquire(20));
    EXPECT_FALSE(budget.try_acquire(20));
    budget.release();
    EXPECT_EQ(budget.in_flight(), 3u);
    EXPECT_TRUE(budget.try_acquire(20));
    EXPECT_EQ(budget.retries(), 5u);
    EXPECT_EQ(budget.refused(), 2u);
}

TEST(RetryBudget, ZeroMakesNoRetry) {
    RetryBudget budget(0, 0);
    EXPECT_FALSE(budget.try_acquire(1000));
    EXPECT_EQ(budget.retries(), 0u);
    EXPECT_EQ(budget.refused(), 1u);
}

}  // namespace
}  // namespace c10k::proxy
