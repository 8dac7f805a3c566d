// The key table's look-ups and the typo suggestions the loader's messages rely on.

#include <gtest/gtest.h>

#include "config/keys.hpp"
#include "config/reference.hpp"

namespace c10k::config {
namespace {

TEST(ConfigKeys, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
    EXPECT_EQ(edit_distance("listen", "listen"), 0u);
    EXPECT_EQ(edit_distance("lisen", "listen"), 1u);
    EXPECT_EQ(edit_distance("listenn", "listen"), 1u);
    EXPECT_EQ(edit_distance("lusten", "listen"), 1u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ConfigKeys, ClosestNameSuggestsTyposButNotUnrelatedWords) {
    std::vector<std::string> names = {"listen", "root", "threads", "max_connections"};
    EXPECT_EQ(closest_name("lisen", names), "listen");
    EXPECT_EQ(closest_name("thread", names), "threads");
    EXPECT_EQ(closest_name("max_conections", names), "max_connections");
    EXPECT_EQ(closest_name("banana", names), "");
}

TEST(ConfigKeys, FindsKeysAndTablesByName) {
    KeyTable table;
    table.tables = {{"server", ""}, {"push", ""}};
    table.keys = {{"server", "listen", Kind::string_list, "listen", "", {}, false},
                  {"push", "prefixes", Kind::string_list, "push", "", {}, false},
                  {"server", "root", Kind::string, "root", "", {}, false}};
    ASSERT_NE(table.find("server", "root"), nullptr);
    EXPECT_EQ(table.find("server", "root")->flag, "root");
    EXPECT_EQ(table.find("push", "root"), nullptr);
    EXPECT_NE(table.find_table("push"), nullptr);
    EXPECT_EQ(table.find_table("pushh"), nullptr);
    auto server = table.keys_of("server");
    ASSERT_EQ(server.size(), 2u);
    EXPECT_EQ(server[0]->name, "listen");
    EXPECT_EQ(server[1]->name, "root");
}

TEST(ConfigReference, RendersEachTableWithItsKeysDefaultsAndFlags) {
    KeyTable table;
    table.tables = {{"server", "The whole process."}, {"push", "Live push."}};
    table.keys = {
        {"server", "listen", Kind::string_list, "listen", "Where", {"127.0.0.1:8080"}, true},
        {"server", "header_timeout", Kind::duration, "header-timeout", "How long", {"10s"}, true},
        {"server", "threads", Kind::integer, "threads", "Loops (default: CPUs)", {}, false},
        {"push", "demo", Kind::boolean, "demo", "A | B", {"false"}, true},
    };
    std::string text = render_reference(table);
    EXPECT_NE(text.find("### [server]\n\nThe whole process.\n"), std::string::npos) << text;
    EXPECT_NE(text.find("| `listen` | array of strings | `[\"127.0.0.1:8080\"]` | `--listen` | "
                        "Where |"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("| `header_timeout` | duration | `\"10s\"` | `--header-timeout` |"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("| `threads` | integer | unset | `--threads` |"), std::string::npos)
        << text;
    // A '|' in help would end the cell early.
    EXPECT_NE(text.find("| `demo` | boolean | `false` | `--demo` | A \\| B |"), std::string::npos)
        << text;
    EXPECT_LT(text.find("### [server]"), text.find("### [push]"));
    EXPECT_EQ(text.back(), '\n');
}

TEST(ConfigReference, DefaultLiteralsAreWhatTomlWouldWrite) {
    Key list{"s", "k", Kind::string_list, "k", "", {"a", "b\"c"}, true};
    EXPECT_EQ(default_literal(list), "[\"a\", \"b\\\"c\"]");
    Key number{"s", "k", Kind::unsigned_integer, "k", "", {"100"}, true};
    EXPECT_EQ(default_literal(number), "100");
    Key none{"s", "k", Kind::string, "k", "", {}, false};
    EXPECT_EQ(default_literal(none), "");
}

}  // namespace
}  // namespace c10k::config
