#pragma once
// The content of the live scoreboard demo: a small baseball game simulator, in the spirit of the
// seeds' workload (the Koshien high-school tournament, whose score page thousands of readers kept
// reloading). `c10k serve --demo` calls advance() on a timer and publishes snapshot_json() to the
// push channel `score`; examples/site renders that JSON.
//
// It is deterministic for a seed (its own generator, not <random>'s distributions, whose output
// differs between standard libraries), so tests can compare runs, and it plays for ever: when a
// game ends, the next advance() starts a new one.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace c10k::serve {

/// One side of the scoreboard.
struct DemoTeam {
    std::string name;
    /// Runs in each half-inning this team has started batting, first inning first.
    std::vector<int> runs;
    int hits = 0;
    int errors = 0;  ///< errors made by this team in the field
    /// The batting order, for the play-by-play line (not part of the scoreboard JSON).
    std::array<std::string, 9> lineup;

    int total() const;
};

/// A seeded simulator of one high-school final after another, one play at a time.
class DemoGame {
public:
    /// Nine innings; a tie goes to extra innings, and a game still tied after this many ends as
    /// a draw (the tournament's rule in 2007: the final is replayed the next day).
    static constexpr int regulation_innings = 9;
    static constexpr int max_innings = 15;

    explicit DemoGame(std::uint64_t seed);

    /// One step: a plate appearance, or the change of sides after a third out, or (once a game
    /// is final) the first pitch of the next game. Every step changes sequence().
    void advance();

    /// The whole scoreboard as one JSON object: sequence number, game number, status
    /// ("live" or "final"), inning, half ("top" or "bottom"), outs, runners on base, both
    /// teams (name, runs per inning, total, hits, errors; visitors first) and a one-line
    /// play-by-play. This is the message a page receives, so it is complete on its own.
    std::string snapshot_json() const;

    /// Visitors (index 0, bat in the top half) and home (index 1).
    const std::array<DemoTeam, 2>& teams() const { return teams_; }
    std::uint64_t sequence() const { return sequence_; }
    int game_number() const { return game_number_; }
    int inning() const { return inning_; }
    bool top_half() const { return batting_ == 0; }
    int outs() const { return outs_; }
    bool final() const { return final_; }
    const std::string& play() const { return play_; }

private:
    /// splitmix64: small, fast, and the same sequence everywhere.
    std::uint64_t next_random();
    /// A value in [0, bound).
    int roll(int bound);
    /// One of `choices`, at random.
    template <std::size_t N>
    std::string_view pick(const std::array<std::string_view, N>& choices);

    void start_game();
    void plate_appearance();
    void change_sides();
    /// Moves runners and the batter; returns the runs that scored. `bases` is how many bases
    /// the batter takes and every runner with him (0: a sacrifice, the batter is out and the
    /// runners move one; 4: a home run). `forced_only` is a walk: only forced runners move.
    int advance_runners(int bases, bool forced_only);
    /// Adds runs for the batting side and ends the game on a walk-off.
    void score(int runs);
    bool walk_off_possible() const;
    void end_game(const std::string& reason);
    std::string batter_name() const;

    std::uint64_t random_state_;
    std::uint64_t sequence_ = 0;
    int game_number_ = 0;
    std::array<DemoTeam, 2> teams_;
    std::array<int, 2> batting_order_{};
    int inning_ = 1;
    int batting_ = 0;  ///< 0: visitors bat (top), 1: home bats (bottom)
    int outs_ = 0;
    std::array<bool, 3> bases_{};  ///< first, second, third
    bool final_ = false;
    bool side_retired_ = false;  ///< three outs made; the next step changes sides
    std::string play_;
};

}  // namespace c10k::serve
