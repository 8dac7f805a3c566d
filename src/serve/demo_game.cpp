#include "serve/demo_game.hpp"

#include <fmt/core.h>

#include <string_view>

#include "core/json.hpp"

namespace c10k::serve {

namespace {

// Invented schools: the demo plays a final in the spirit of the seeds' Koshien page, not a
// real one.
constexpr std::array<std::string_view, 8> schools = {
    "Asahi Gakuen",    "Minato Commercial", "Kamome Technical", "Hoshigaoka",
    "Shiranami Daini", "Tsubame Academy",   "Sakuragi Kita",    "Umikaze Industrial",
};

constexpr std::array<std::string_view, 24> surnames = {
    "Sato",      "Suzuki",  "Takahashi", "Tanaka", "Watanabe", "Ito",       "Yamamoto",  "Nakamura",
    "Kobayashi", "Kato",    "Yoshida",   "Yamada", "Sasaki",   "Yamaguchi", "Matsumoto", "Inoue",
    "Kimura",    "Hayashi", "Shimizu",   "Mori",   "Ota",      "Ikeda",     "Hashimoto", "Ishikawa",
};

// Where the ball goes, by kind of play, for the play-by-play line.
constexpr std::array<std::string_view, 5> infield = {"the pitcher", "first", "second", "third",
                                                     "short"};
constexpr std::array<std::string_view, 3> outfield = {"left", "center", "right"};
constexpr std::array<std::string_view, 5> single_to = {"to left", "to center", "to right",
                                                       "up the middle", "through the left side"};
constexpr std::array<std::string_view, 4> double_to = {
    "to left-center", "to right-center", "down the left-field line", "off the wall in center"};
constexpr std::array<std::string_view, 2> triple_to = {"into the right-center gap",
                                                       "into the left-field corner"};
constexpr std::array<std::string_view, 3> home_run_to = {
    "into the left-field stands", "over the center-field fence", "into the right-field stands"};
constexpr std::array<std::string_view, 6> fielders = {"shortstop",      "third baseman",
                                                      "second baseman", "first baseman",
                                                      "left fielder",   "center fielder"};

std::string ordinal(int n) {
    const char* suffix = "th";
    if (n % 100 < 11 || n % 100 > 13) {
        if (n % 10 == 1) suffix = "st";
        if (n % 10 == 2) suffix = "nd";
        if (n % 10 == 3) suffix = "rd";
    }
    return fmt::format("{}{}", n, suffix);
}

std::string runs_scored(int runs) {
    if (runs <= 0) return "";
    if (runs == 1) return " A run scores.";
    return fmt::format(" {} runs score.", runs);
}

}  // namespace

int DemoTeam::total() const {
    int sum = 0;
    for (int r : runs) sum += r;
    return sum;
}

DemoGame::DemoGame(std::uint64_t seed) : random_state_(seed) {
    start_game();
}

std::uint64_t DemoGame::next_random() {
    random_state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = random_state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

template <std::size_t N>
std::string_view DemoGame::pick(const std::array<std::string_view, N>& choices) {
    return choices[static_cast<std::size_t>(roll(static_cast<int>(N)))];
}

int DemoGame::roll(int bound) {
    // The modulo bias is below 1e-16 for these bounds: irrelevant to a demo.
    return static_cast<int>(next_random() % static_cast<std::uint64_t>(bound));
}

void DemoGame::start_game() {
    ++game_number_;
    int visitors = roll(static_cast<int>(schools.size()));
    int home = (visitors + 1 + roll(static_cast<int>(schools.size()) - 1)) %
               static_cast<int>(schools.size());
    for (int side = 0; side < 2; ++side) {
        DemoTeam& team = teams_[side];
        team = DemoTeam{};
        team.name = std::string(schools[side == 0 ? visitors : home]);
        // Nine different surnames per side: a partial Fisher-Yates shuffle of the list.
        std::array<int, surnames.size()> order{};
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
        for (std::size_t i = 0; i < team.lineup.size(); ++i) {
            std::size_t j = i + static_cast<std::size_t>(roll(static_cast<int>(order.size() - i)));
            std::swap(order[i], order[j]);
            team.lineup[i] = std::string(surnames[order[i]]);
        }
    }
    teams_[0].runs.push_back(0);
    batting_order_ = {0, 0};
    inning_ = 1;
    batting_ = 0;
    outs_ = 0;
    bases_ = {};
    final_ = false;
    side_retired_ = false;
    play_ = fmt::format("Play ball! Game {}, the final: {} against {}.", game_number_,
                        teams_[0].name, teams_[1].name);
}

void DemoGame::advance() {
    ++sequence_;
    if (final_) {
        start_game();
    } else if (side_retired_) {
        change_sides();
    } else {
        plate_appearance();
    }
}

void DemoGame::change_sides() {
    side_retired_ = false;
    outs_ = 0;
    bases_ = {};
    if (batting_ == 0) {
        batting_ = 1;
    } else {
        batting_ = 0;
        ++inning_;
    }
    teams_[batting_].runs.push_back(0);
    play_ = fmt::format("{} of the {}: {} at bat.", batting_ == 0 ? "Top" : "Bottom",
                        ordinal(inning_), teams_[batting_].name);
}

std::string DemoGame::batter_name() const {
    const DemoTeam& team = teams_[batting_];
    return team.lineup[static_cast<std::size_t>(batting_order_[batting_])];
}

bool DemoGame::walk_off_possible() const {
    return batting_ == 1 && inning_ >= regulation_innings;
}

int DemoGame::advance_runners(int bases, bool forced_only) {
    int runs = 0;
    if (forced_only) {
        // A walk: each runner moves only if the one behind pushes him.
        if (bases_[0]) {
            if (bases_[1]) {
                if (bases_[2]) ++runs;
                bases_[2] = true;
            }
            bases_[1] = true;
        }
        bases_[0] = true;
        return runs;
    }
    // Everyone, batter included, moves `bases` bases (0: runners move one, batter is out).
    int step = bases == 0 ? 1 : bases;
    std::array<bool, 3> after{};
    for (int base = 2; base >= 0; --base) {
        if (!bases_[static_cast<std::size_t>(base)]) continue;
        int to = base + step;
        if (to >= 3) {
            ++runs;
        } else {
            after[static_cast<std::size_t>(to)] = true;
        }
    }
    if (bases >= 4) {
        ++runs;
    } else if (bases > 0) {
        after[static_cast<std::size_t>(bases - 1)] = true;
    }
    bases_ = after;
    return runs;
}

void DemoGame::score(int runs) {
    if (runs <= 0) return;
    teams_[batting_].runs.back() += runs;
    if (walk_off_possible() && teams_[1].total() > teams_[0].total()) {
        end_game(fmt::format("Sayonara! {} win the final {}-{} in the {}.", teams_[1].name,
                             teams_[1].total(), teams_[0].total(), ordinal(inning_)));
    }
}

void DemoGame::end_game(const std::string& reason) {
    final_ = true;
    bases_ = {};
    play_ += " " + reason;
}

void DemoGame::plate_appearance() {
    DemoTeam& fielding = teams_[1 - batting_];
    DemoTeam& hitting = teams_[batting_];
    std::string batter = batter_name();
    batting_order_[batting_] = (batting_order_[batting_] + 1) % 9;
    int outs_made = 0;
    int runs = 0;
    bool home_run = false;

    // Rough rates of high-school baseball per plate appearance, in thousandths.
    int outcome = roll(1000);
    if (outcome < 200) {
        play_ = fmt::format("{} strikes out {}.", batter, roll(3) == 0 ? "looking" : "swinging");
        outs_made = 1;
    } else if (outcome < 420) {
        if (bases_[0] && outs_ < 2 && roll(100) < 35) {
            play_ = fmt::format("{} grounds into a double play.", batter);
            bases_[0] = false;
            outs_made = 2;
        } else {
            play_ = fmt::format("{} grounds out to {}.", batter, pick(infield));
            outs_made = 1;
            if (bases_[2] && outs_ < 2 && roll(100) < 40) {
                bases_[2] = false;
                runs = 1;
            }
        }
    } else if (outcome < 620) {
        outs_made = 1;
        if (bases_[2] && outs_ < 2 && roll(100) < 50) {
            play_ = fmt::format("{} hits a sacrifice fly to {}.", batter, pick(outfield));
            bases_[2] = false;
            runs = 1;
        } else {
            play_ = fmt::format("{} flies out to {}.", batter, pick(outfield));
        }
    } else if (outcome < 700) {
        bool hit_by_pitch = roll(8) == 0;
        play_ = fmt::format("{} {}.", batter, hit_by_pitch ? "is hit by a pitch" : "walks");
        runs = advance_runners(1, true);
    } else if (outcome < 870) {
        bool from_second = bases_[1];
        runs = advance_runners(1, false);
        // A runner who started on second usually scores on a single.
        if (from_second && bases_[2] && roll(100) < 60) {
            bases_[2] = false;
            ++runs;
        }
        play_ = fmt::format("{} singles {}.", batter, pick(single_to));
        ++hitting.hits;
    } else if (outcome < 920) {
        bool from_first = bases_[0];
        runs = advance_runners(2, false);
        if (from_first && bases_[2] && roll(100) < 40) {
            bases_[2] = false;
            ++runs;
        }
        play_ = fmt::format("{} doubles {}.", batter, pick(double_to));
        ++hitting.hits;
    } else if (outcome < 930) {
        runs = advance_runners(3, false);
        play_ = fmt::format("{} triples {}.", batter, pick(triple_to));
        ++hitting.hits;
    } else if (outcome < 950) {
        runs = advance_runners(4, false);
        home_run = true;
        static constexpr std::array<std::string_view, 4> kinds = {
            "a solo home run", "a two-run home run", "a three-run home run", "a grand slam"};
        play_ = fmt::format("{} homers {}: {}!", batter, pick(home_run_to),
                            kinds[static_cast<std::size_t>(runs - 1)]);
        ++hitting.hits;
    } else if (outcome < 975) {
        runs = advance_runners(1, false);
        play_ = fmt::format("{} reaches on an error by the {}.", batter, pick(fielders));
        ++fielding.errors;
    } else {
        outs_made = 1;
        if ((bases_[0] || bases_[1]) && outs_ < 2) {
            play_ = fmt::format("{} lays down a sacrifice bunt.", batter);
            runs = advance_runners(0, false);
        } else {
            play_ = fmt::format("{} lines out to {}.", batter, pick(infield));
        }
    }

    // Outside a walk-off, every run counts. In one, only the winning run does, except on a
    // home run, where every runner and the batter score.
    if (walk_off_possible() && !home_run) {
        int winning = teams_[0].total() - teams_[1].total() + 1;
        if (winning > 0 && runs > winning) runs = winning;
    }
    if (!home_run) play_ += runs_scored(runs);
    score(runs);
    if (final_) return;

    if (outs_made > 0) {
        outs_ += outs_made;
        if (outs_ < 3) {
            play_ += outs_ == 1 ? " One out." : " Two outs.";
            return;
        }
        outs_ = 3;
        bases_ = {};
        play_ += fmt::format(" Three outs: end of the {} of the {}.",
                             batting_ == 0 ? "top" : "bottom", ordinal(inning_));
        int visitors = teams_[0].total();
        int home = teams_[1].total();
        if (inning_ >= regulation_innings && batting_ == 0 && home > visitors) {
            end_game(fmt::format("{} win the final {}-{}; the bottom of the {} is not played.",
                                 teams_[1].name, home, visitors, ordinal(inning_)));
        } else if (inning_ >= regulation_innings && batting_ == 1 && visitors > home) {
            end_game(fmt::format("{} win the final {}-{}.", teams_[0].name, visitors, home));
        } else if (inning_ >= max_innings && batting_ == 1) {
            end_game(fmt::format(
                "Still tied {}-{} after {} innings: the final is a draw, replayed tomorrow.",
                visitors, home, max_innings));
        } else {
            side_retired_ = true;
        }
    }
}

std::string DemoGame::snapshot_json() const {
    std::string out = fmt::format(
        R"({{"seq":{},"game":{},"title":"Koshien final","status":"{}","inning":{},"half":"{}",)"
        R"("outs":{},"bases":[{},{},{}],"teams":[)",
        sequence_, game_number_, final_ ? "final" : "live", inning_,
        batting_ == 0 ? "top" : "bottom", outs_, bases_[0], bases_[1], bases_[2]);
    for (std::size_t side = 0; side < teams_.size(); ++side) {
        const DemoTeam& team = teams_[side];
        if (side > 0) out += ',';
        out += R"({"name":)" + core::json_quote(team.name) + R"(,"runs":[)";
        for (std::size_t i = 0; i < team.runs.size(); ++i) {
            if (i > 0) out += ',';
            out += fmt::format("{}", team.runs[i]);
        }
        out += fmt::format(R"(],"total":{},"hits":{},"errors":{}}})", team.total(), team.hits,
                           team.errors);
    }
    out += R"(],"play":)" + core::json_quote(play_) + "}";
    return out;
}

}  // namespace c10k::serve
