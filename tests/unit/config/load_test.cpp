// Loading config files: the happy path, and every class of error with the file, the line and
// the key in its message. Files are written by each test into a temporary directory.

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "unit/config/temp_file.hpp"

namespace c10k::config {
namespace {

using test::TempConfig;

KeyTable sample_table() {
    KeyTable table;
    table.tables = {{"server", ""}, {"push", ""}};
    table.keys = {
        {"server", "listen", Kind::string_list, "listen", "", {"127.0.0.1:8080"}, true},
        {"server", "root", Kind::string, "root", "", {}, false},
        {"server", "threads", Kind::integer, "threads", "", {}, false},
        {"server", "max_connections", Kind::unsigned_integer, "max-connections", "", {"0"}, true},
        {"server", "header_timeout", Kind::duration, "header-timeout", "", {"10s"}, true},
        {"server", "follow_symlinks", Kind::boolean, "follow-symlinks", "", {"false"}, true},
        {"push", "prefixes", Kind::string_list, "push", "", {}, false},
        {"push", "demo", Kind::boolean, "demo", "", {"false"}, true},
    };
    return table;
}

/// The only error of loading `contents`, or a failure when there is none or several.
std::string only_error(const std::string& contents, std::string* path = nullptr) {
    TempConfig file(contents);
    if (path != nullptr) *path = file.path();
    Loaded loaded = load(file.path(), sample_table());
    EXPECT_EQ(loaded.errors.size(), 1u) << loaded.error_text();
    EXPECT_TRUE(loaded.settings.empty());
    std::string error = loaded.errors.empty() ? "" : loaded.errors.front();
    // Reported relative to a fixed name, so the expectations can be written out in full.
    if (error.rfind(file.path(), 0) == 0) error = "FILE" + error.substr(file.path().size());
    return error;
}

TEST(ConfigLoad, SettingsComeAsTheFlagsTextsInFileOrderWithTheirLines) {
    TempConfig file(
        "# a comment\n"
        "[server]\n"
        "root = \"/srv/www\"\n"
        "listen = [\"127.0.0.1:80\", \"[::1]:80\"]\n"
        "threads = 4\n"
        "max_connections = 100000\n"
        "header_timeout = \"250ms\"\n"
        "follow_symlinks = true\n"
        "\n"
        "[push]\n"
        "prefixes = [\"/live/\"]\n"
        "demo = false\n");
    Loaded loaded = load(file.path(), sample_table());
    ASSERT_TRUE(loaded.ok()) << loaded.error_text();
    EXPECT_EQ(loaded.path, file.path());
    ASSERT_EQ(loaded.settings.size(), 8u);
    struct Expected {
        const char* table;
        const char* name;
        const char* flag;
        std::vector<std::string> values;
        int line;
    };
    std::vector<Expected> expected = {
        {"server", "root", "root", {"/srv/www"}, 3},
        {"server", "listen", "listen", {"127.0.0.1:80", "[::1]:80"}, 4},
        {"server", "threads", "threads", {"4"}, 5},
        {"server", "max_connections", "max-connections", {"100000"}, 6},
        {"server", "header_timeout", "header-timeout", {"250ms"}, 7},
        {"server", "follow_symlinks", "follow-symlinks", {"true"}, 8},
        {"push", "prefixes", "push", {"/live/"}, 11},
        {"push", "demo", "demo", {"false"}, 12},
    };
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const Setting& setting = loaded.settings[i];
        EXPECT_EQ(setting.table, expected[i].table) << i;
        EXPECT_EQ(setting.name, expected[i].name) << i;
        EXPECT_EQ(setting.flag, expected[i].flag) << i;
        EXPECT_EQ(setting.values, expected[i].values) << i;
        EXPECT_EQ(setting.line, expected[i].line) << i;
    }
}

TEST(ConfigLoad, LoadingTwiceGivesTheSameSettings) {
    // A reload is the same call again: nothing is kept between loads.
    TempConfig file("[server]\nthreads = 2\nroot = \"x\"\n");
    KeyTable table = sample_table();
    Loaded first = load(file.path(), table);
    Loaded second = load(file.path(), table);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first.settings.size(), second.settings.size());
    for (std::size_t i = 0; i < first.settings.size(); ++i) {
        EXPECT_EQ(first.settings[i].values, second.settings[i].values);
        EXPECT_EQ(first.settings[i].line, second.settings[i].line);
    }
}

TEST(ConfigLoad, DottedKeysAndInlineTablesAreTheSameKeys) {
    TempConfig file("server.threads = 3\npush = { demo = true }\n");
    Loaded loaded = load(file.path(), sample_table());
    ASSERT_TRUE(loaded.ok()) << loaded.error_text();
    ASSERT_EQ(loaded.settings.size(), 2u);
    EXPECT_EQ(loaded.settings[0].name, "threads");
    EXPECT_EQ(loaded.settings[1].name, "demo");
    EXPECT_EQ(loaded.settings[1].line, 2);
}

TEST(ConfigLoad, AnEmptyListIsTheDefaultOfAKeyWithoutOne) {
    TempConfig file("[push]\nprefixes = []\n");
    Loaded loaded = load(file.path(), sample_table());
    ASSERT_TRUE(loaded.ok()) << loaded.error_text();
    ASSERT_EQ(loaded.settings.size(), 1u);
    EXPECT_TRUE(loaded.settings[0].values.empty());
}

TEST(ConfigLoad, AMissingFileIsNamedWithTheReason) {
    Loaded loaded = load("/nonexistent-dir/c10k.toml", sample_table());
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_EQ(loaded.errors[0],
              "/nonexistent-dir/c10k.toml: cannot read the configuration file: No such file or "
              "directory");
}

TEST(ConfigLoad, ADirectoryIsNotAFile) {
    TempConfig file("");
    Loaded loaded = load(file.dir(), sample_table());
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_EQ(loaded.errors[0],
              file.dir() + ": cannot read the configuration file: Is a directory");
}

TEST(ConfigLoad, SyntaxErrorsGiveLineAndColumn) {
    EXPECT_EQ(only_error("[server]\nthreads = \n"),
              "FILE:2:11: TOML syntax error: Error while parsing key-value pair: expected value, "
              "saw '\\n'");
    std::string error = only_error("[server\n");
    EXPECT_EQ(error.rfind("FILE:1:", 0), 0u) << error;
    EXPECT_NE(error.find("TOML syntax error"), std::string::npos) << error;
}

TEST(ConfigLoad, DuplicateKeysAreSyntaxErrorsNamingTheKey) {
    std::string error = only_error("[server]\nthreads = 1\nthreads = 2\n");
    EXPECT_EQ(error.rfind("FILE:3:", 0), 0u) << error;
    EXPECT_NE(error.find("'threads'"), std::string::npos) << error;
}

TEST(ConfigLoad, UnknownTablesSuggestTheClosestAndListTheKnown) {
    EXPECT_EQ(only_error("\n[pushh]\ndemo = true\n"),
              "FILE:2: [pushh]: unknown table; did you mean [push]? (tables: [server], [push], "
              "[[host]])");
    EXPECT_EQ(only_error("[location]\n"),
              "FILE:1: [location]: unknown table (tables: [server], [push], [[host]])");
    // The virtual hosts are an array of tables, and a typo of it is told so.
    EXPECT_EQ(only_error("[hosts]\n"),
              "FILE:1: [hosts]: unknown table; did you mean [[host]]? (tables: [server], [push], "
              "[[host]])");
}

TEST(ConfigLoad, UnknownKeysSuggestTheClosestKey) {
    EXPECT_EQ(only_error("[server]\nlisen = [\"a\"]\n"),
              "FILE:2: [server] lisen: unknown key; did you mean 'listen'?");
}

TEST(ConfigLoad, AKeyOfAnotherTableSaysWhichTable) {
    EXPECT_EQ(only_error("[push]\nthreads = 2\n"),
              "FILE:2: [push] threads: unknown key; 'threads' is a key of [server]");
}

TEST(ConfigLoad, UnknownKeysWithNothingCloseListTheTablesKeys) {
    EXPECT_EQ(only_error("[push]\nbanana = 2\n"),
              "FILE:2: [push] banana: unknown key (keys of [push]: prefixes, demo)");
}

TEST(ConfigLoad, ASubTableIsAnUnknownKeyOfItsTable) {
    EXPECT_EQ(only_error("[server.tls]\ncert = \"x\"\n"),
              "FILE:1: [server] tls: unknown key (keys of [server]: listen, root, threads, "
              "max_connections, header_timeout, follow_symlinks)");
}

TEST(ConfigLoad, WrongTypesSayWhatWasExpectedAndWhatCame) {
    EXPECT_EQ(only_error("[server]\nthreads = \"2\"\n"),
              "FILE:2: [server] threads: expected an integer, got a string");
    EXPECT_EQ(only_error("[server]\nthreads = 2.5\n"),
              "FILE:2: [server] threads: expected an integer, got a floating-point number");
    EXPECT_EQ(only_error("[server]\nroot = 7\n"),
              "FILE:2: [server] root: expected a string, got an integer");
    EXPECT_EQ(only_error("[server]\nfollow_symlinks = \"yes\"\n"),
              "FILE:2: [server] follow_symlinks: expected true or false, got a string");
    EXPECT_EQ(only_error("[server]\nlisten = \"127.0.0.1:80\"\n"),
              "FILE:2: [server] listen: expected an array of strings, e.g. [\"a\", \"b\"], got a "
              "string");
    EXPECT_EQ(only_error("[server]\nheader_timeout = 10\n"),
              "FILE:2: [server] header_timeout: expected a duration string such as \"10s\", "
              "\"250ms\" or \"2m\", got an integer");
    EXPECT_EQ(only_error("[server]\nmax_connections = 1979-05-27\n"),
              "FILE:2: [server] max_connections: expected an integer of 0 or more, got a date");
}

TEST(ConfigLoad, ListElementsMustBeStrings) {
    EXPECT_EQ(only_error("[server]\nlisten = [\"127.0.0.1:80\", 81]\n"),
              "FILE:2: [server] listen: element 2 is an integer; expected an array of strings, "
              "e.g. [\"a\", \"b\"]");
}

TEST(ConfigLoad, NegativeNumbersAreRefusedForUnsignedKeys) {
    EXPECT_EQ(only_error("[server]\nmax_connections = -1\n"),
              "FILE:2: [server] max_connections: -1 is negative; expected an integer of 0 or more");
}

TEST(ConfigLoad, DurationsAreCheckedWithTheFlagsParser) {
    EXPECT_EQ(only_error("[server]\nheader_timeout = \"ten\"\n"),
              "FILE:2: [server] header_timeout: 'ten' is not a duration (write it as 10s, 250ms, "
              "2m or 1h)");
    EXPECT_EQ(only_error("[server]\nheader_timeout = \"10parsecs\"\n"),
              "FILE:2: [server] header_timeout: '10parsecs': unknown unit 'parsecs' (use us, ms, "
              "s, m or h)");
}

TEST(ConfigLoad, AnEmptyListIsRefusedWhereTheKeyHasADefault) {
    EXPECT_EQ(only_error("[server]\nlisten = []\n"),
              "FILE:2: [server] listen: the array is empty; give at least one value, or leave the "
              "key out for the default [\"127.0.0.1:8080\"]");
}

TEST(ConfigLoad, KeysOutsideATableSayWhereTheyBelong) {
    EXPECT_EQ(only_error("threads = 2\n[server]\n"),
              "FILE:1: threads: a key outside any table; write it under [server]");
    EXPECT_EQ(only_error("verbose = true\n"),
              "FILE:1: verbose: a key outside any table; keys belong in one of the tables "
              "[server], [push]");
}

TEST(ConfigLoad, ATableNameUsedAsAValueIsRefused) {
    EXPECT_EQ(only_error("server = 1\n"),
              "FILE:1: server: expected a table [server], got an "
              "integer");
    EXPECT_EQ(only_error("[[push]]\ndemo = true\n"),
              "FILE:1: push: expected a table [push], got an array of tables");
}

TEST(ConfigLoad, EveryErrorIsReportedInFileOrder) {
    TempConfig file(
        "[server]\n"
        "threads = \"x\"\n"
        "root = 1\n"
        "[push]\n"
        "bogus = 1\n"
        "demo = true\n");
    Loaded loaded = load(file.path(), sample_table());
    ASSERT_EQ(loaded.errors.size(), 3u) << loaded.error_text();
    EXPECT_EQ(loaded.errors[0].rfind(file.path() + ":2: [server] threads:", 0), 0u);
    EXPECT_EQ(loaded.errors[1].rfind(file.path() + ":3: [server] root:", 0), 0u);
    EXPECT_EQ(loaded.errors[2].rfind(file.path() + ":5: [push] bogus:", 0), 0u);
    EXPECT_TRUE(loaded.settings.empty());
    EXPECT_EQ(loaded.error_text(),
              loaded.errors[0] + "\n" + loaded.errors[1] + "\n" + loaded.errors[2]);
}

TEST(ConfigLoad, ParseNamesTheGivenPathWithoutReadingIt) {
    Loaded loaded = parse("[server]\nthreads = true\n", "inline.toml", sample_table());
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_EQ(loaded.errors[0],
              "inline.toml:2: [server] threads: expected an integer, got a "
              "boolean");
}

}  // namespace
}  // namespace c10k::config

namespace c10k::config {
namespace {

KeyTable array_table() {
    KeyTable table;
    table.allows_hosts = false;
    table.tables = {{"proxy", ""}, {"pool", "", true}};
    table.keys = {
        {"proxy", "backend", Kind::string_list, "backend", "", {}, false},
        {"proxy", "factor", Kind::number, "factor", "", {"1.25"}, true},
        {"pool", "name", Kind::string, "", "", {}, false},
        {"pool", "backend", Kind::string_list, "backend", "", {}, false},
        {"pool", "factor", Kind::number, "factor", "", {"1.25"}, true},
    };
    return table;
}

Loaded load_text(const std::string& text) {
    test::TempConfig file(text);
    return load(file.path(), array_table());
}

TEST(LoadArrays, EachElementsKeysCarryItsNumberAndHeaderLine) {
    Loaded loaded = load_text(
        "[proxy]\nbackend = [\"a:1\"]\nfactor = 2\n\n[[pool]]\nname = \"x\"\nfactor = 1.5\n"
        "\n[[pool]]\nname = \"y\"\nbackend = [\"b:1\", \"c:1\"]\n");
    ASSERT_TRUE(loaded.ok()) << loaded.error_text();
    ASSERT_EQ(loaded.settings.size(), 6u);
    EXPECT_EQ(loaded.settings[0].element, -1);
    EXPECT_EQ(loaded.settings[1].values, std::vector<std::string>{"2"});
    EXPECT_EQ(loaded.settings[2].name, "name");
    EXPECT_EQ(loaded.settings[2].element, 0);
    EXPECT_EQ(loaded.settings[2].element_line, 5);
    EXPECT_EQ(loaded.settings[3].values, std::vector<std::string>{"1.5"});
    EXPECT_EQ(loaded.settings[4].element, 1);
    EXPECT_EQ(loaded.settings[4].element_line, 9);
    EXPECT_EQ(loaded.settings[5].values, (std::vector<std::string>{"b:1", "c:1"}));
}

TEST(LoadArrays, ShapesAndKindsAreChecked) {
    auto error_of = [](const std::string& text) {
        Loaded loaded = load_text(text);
        EXPECT_EQ(loaded.errors.size(), 1u) << loaded.error_text();
        std::string error = loaded.errors.empty() ? "" : loaded.errors.front();
        return error.substr(error.find(':') + 1);  // without the file's name
    };
    EXPECT_EQ(error_of("[pool]\nname = \"x\"\n"),
              "1: pool: expected an array of tables [[pool]], got a table");
    EXPECT_EQ(error_of("[[pool]]\nfactor = \"big\"\n"),
              "2: [[pool]] factor: expected a number, got a string");
    EXPECT_EQ(error_of("[[pool]]\nnmae = \"x\"\n"),
              "2: [[pool]] nmae: unknown key; did you mean 'name'?");
    EXPECT_EQ(error_of("[[host]]\nnames = [\"a\"]\n"),
              "1: [[host]]: unknown table (tables: [proxy], [[pool]])");
    EXPECT_EQ(error_of("[prxy]\nbackend = []\n"),
              "1: [prxy]: unknown table; did you mean [proxy]? (tables: [proxy], [[pool]])");
}

}  // namespace
}  // namespace c10k::config
