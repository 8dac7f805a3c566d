// The demo's game simulator: its snapshot is valid JSON whose totals add up, it follows the
// rules that decide a game, it restarts when a game ends, and a seed fixes the whole run.

#include "serve/demo_game.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/json_value.hpp"

namespace c10k::serve {
namespace {

using test::JsonValue;
using test::parse_json;

// Enough steps for a few dozen games (a game is about a hundred steps).
constexpr int steps = 5000;

int sum(const JsonValue& runs) {
    int total = 0;
    for (const JsonValue& r : runs.array) total += static_cast<int>(r.integer());
    return total;
}

TEST(DemoGame, EverySnapshotParsesAndTotalsAreTheSumOfTheInnings) {
    DemoGame game(20070822);
    for (int i = 0; i < steps; ++i) {
        std::string text = game.snapshot_json();
        std::optional<JsonValue> parsed = parse_json(text);
        ASSERT_TRUE(parsed) << "step " << i << ": " << text;
        const JsonValue& s = *parsed;
        EXPECT_EQ(s["seq"].integer(), static_cast<std::int64_t>(game.sequence()));
        EXPECT_EQ(s["game"].integer(), game.game_number());
        EXPECT_EQ(s["status"].string, game.final() ? "final" : "live");
        EXPECT_EQ(s["half"].string, game.top_half() ? "top" : "bottom");
        EXPECT_EQ(s["inning"].integer(), game.inning());
        EXPECT_GE(s["outs"].integer(), 0);
        EXPECT_LE(s["outs"].integer(), 3);
        EXPECT_EQ(s["bases"].array.size(), 3u);
        EXPECT_FALSE(s["play"].string.empty());
        ASSERT_EQ(s["teams"].array.size(), 2u) << text;
        for (int side = 0; side < 2; ++side) {
            const JsonValue& team = s["teams"].array[static_cast<std::size_t>(side)];
            const DemoTeam& expected = game.teams()[static_cast<std::size_t>(side)];
            EXPECT_EQ(team["name"].string, expected.name);
            EXPECT_EQ(team["total"].integer(), sum(team["runs"])) << text;
            EXPECT_EQ(team["total"].integer(), expected.total());
            EXPECT_GE(team["hits"].integer(), 0);
            EXPECT_GE(team["errors"].integer(), 0);
            for (const JsonValue& r : team["runs"].array) EXPECT_GE(r.integer(), 0);
        }
        // The visitors have batted in every inning so far; the home side in every one but the
        // current top half.
        std::size_t visitors_innings = s["teams"].array[0]["runs"].array.size();
        std::size_t home_innings = s["teams"].array[1]["runs"].array.size();
        EXPECT_EQ(visitors_innings, static_cast<std::size_t>(game.inning())) << text;
        EXPECT_EQ(home_innings + (game.top_half() ? 1 : 0), visitors_innings) << text;
        game.advance();
    }
}

TEST(DemoGame, GamesEndByTheRules) {
    DemoGame game(1);
    int finals = 0;
    for (int i = 0; i < steps; ++i) {
        game.advance();
        if (!game.final()) continue;
        ++finals;
        int visitors = game.teams()[0].total();
        int home = game.teams()[1].total();
        ASSERT_GE(game.inning(), DemoGame::regulation_innings) << game.snapshot_json();
        ASSERT_LE(game.inning(), DemoGame::max_innings) << game.snapshot_json();
        if (visitors == home) {
            // A draw only after the last allowed inning, both halves played.
            EXPECT_EQ(game.inning(), DemoGame::max_innings) << game.snapshot_json();
            EXPECT_FALSE(game.top_half());
        } else if (game.top_half()) {
            // Over after a top half: the home side led and did not need to bat.
            EXPECT_GT(home, visitors) << game.snapshot_json();
        } else if (home > visitors) {
            // A walk-off: the home side stops at the winning run, unless a home run cleared
            // the bases (at most four runs ahead).
            EXPECT_LE(home - visitors, 4) << game.snapshot_json();
            EXPECT_NE(game.play().find("Sayonara"), std::string::npos) << game.play();
        }
        EXPECT_NE(game.play().find("final"), std::string::npos) << game.play();
    }
    EXPECT_GT(finals, 10);
}

TEST(DemoGame, AFinishedGameRestarts) {
    DemoGame game(7);
    int guard = 0;
    while (!game.final() && guard++ < steps) game.advance();
    ASSERT_TRUE(game.final());
    int finished_number = game.game_number();
    std::uint64_t sequence = game.sequence();

    game.advance();
    EXPECT_FALSE(game.final());
    EXPECT_EQ(game.game_number(), finished_number + 1);
    EXPECT_EQ(game.sequence(), sequence + 1);
    EXPECT_EQ(game.inning(), 1);
    EXPECT_TRUE(game.top_half());
    EXPECT_EQ(game.outs(), 0);
    EXPECT_EQ(game.teams()[0].runs, std::vector<int>{0});
    EXPECT_TRUE(game.teams()[1].runs.empty());
    EXPECT_EQ(game.teams()[0].hits + game.teams()[1].hits, 0);
    EXPECT_NE(game.teams()[0].name, game.teams()[1].name);
    std::optional<JsonValue> parsed = parse_json(game.snapshot_json());
    ASSERT_TRUE(parsed);
    EXPECT_EQ((*parsed)["status"].string, "live");
}

TEST(DemoGame, ASeedFixesTheWholeRun) {
    DemoGame a(42);
    DemoGame b(42);
    DemoGame other(43);
    bool differs = false;
    for (int i = 0; i < steps; ++i) {
        ASSERT_EQ(a.snapshot_json(), b.snapshot_json()) << "step " << i;
        differs = differs || a.snapshot_json() != other.snapshot_json();
        a.advance();
        b.advance();
        other.advance();
    }
    EXPECT_TRUE(differs);
}

TEST(DemoGame, ScoresLookLikeBaseball) {
    // Not a statistics test: it catches a simulator that never scores or never ends.
    DemoGame game(2007);
    int games = 0;
    int runs = 0;
    int longest = 0;
    int length = 0;
    for (int i = 0; i < steps; ++i) {
        game.advance();
        ++length;
        if (game.final()) {
            ++games;
            runs += game.teams()[0].total() + game.teams()[1].total();
            longest = std::max(longest, length);
            length = 0;
        }
    }
    ASSERT_GT(games, 10);
    double per_team = static_cast<double>(runs) / (2.0 * games);
    EXPECT_GT(per_team, 1.0);
    EXPECT_LT(per_team, 10.0);
    EXPECT_LT(longest, 600);
}

TEST(JsonValue, RejectsWhatIsNotJson) {
    // The reader that the tests above trust.
    EXPECT_TRUE(parse_json(R"({"a":[1,-2.5e3,true,null,"x\u00e9\n"]})"));
    EXPECT_EQ((*parse_json(R"("\u00e9\ud83d\ude00")")).string, "\xc3\xa9\xf0\x9f\x98\x80");
    for (const char* bad : {"", "{", R"({"a":1,})", "[1 2]", "01", "1.", R"("\x")", "tru", "{} x",
                            "\"a\nb\"", R"("\ud800")", "[1,]"}) {
        EXPECT_FALSE(parse_json(bad)) << bad;
    }
}

}  // namespace
}  // namespace c10k::serve
