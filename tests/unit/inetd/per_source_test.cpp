// xinetd's per_source: programs at once per client address, counted up and down as they start
// and end.

#include <gtest/gtest.h>

#include "inetd/per_source.hpp"

namespace c10k::inetd {
namespace {

TEST(PerSourceTable, AnAddressAtItsLimitIsRefusedAndOthersAreNot) {
    PerSourceTable table(2);
    EXPECT_TRUE(table.try_add("127.0.0.1"));
    EXPECT_TRUE(table.try_add("127.0.0.1"));
    EXPECT_FALSE(table.try_add("127.0.0.1"));
    EXPECT_EQ(table.count("127.0.0.1"), 2u);
    EXPECT_TRUE(table.try_add("127.0.0.2"));
    EXPECT_TRUE(table.try_add("[::1]"));
    EXPECT_EQ(table.sources(), 3u);
}

TEST(PerSourceTable, AnEndFreesASlot) {
    PerSourceTable table(1);
    EXPECT_TRUE(table.try_add("10.0.0.1"));
    EXPECT_FALSE(table.try_add("10.0.0.1"));
    table.remove("10.0.0.1");
    EXPECT_EQ(table.count("10.0.0.1"), 0u);
    EXPECT_TRUE(table.try_add("10.0.0.1"));
}

TEST(PerSourceTable, AddressesWithNothingRunningAreForgotten) {
    PerSourceTable table(3);
    for (int i = 0; i < 100; ++i) {
        std::string address = "10.0.0." + std::to_string(i);
        ASSERT_TRUE(table.try_add(address));
        table.remove(address);
    }
    EXPECT_EQ(table.sources(), 0u);
    // A refusal does not leave an entry behind either, nor does removing the unknown.
    PerSourceTable one(1);
    EXPECT_TRUE(one.try_add("a"));
    EXPECT_FALSE(one.try_add("a"));
    one.remove("a");
    one.remove("a");
    one.remove("b");
    EXPECT_EQ(one.sources(), 0u);
}

TEST(PerSourceTable, NoLimitStillCounts) {
    PerSourceTable table(0);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(table.try_add("127.0.0.1"));
    EXPECT_EQ(table.count("127.0.0.1"), 1000u);
}

}  // namespace
}  // namespace c10k::inetd
