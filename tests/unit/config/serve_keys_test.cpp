// The config keys of `c10k serve`: derived from its real options (a flag without a key fails
// here), the rules that place them in tables, and a file applied under the command line.

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "commands.hpp"
#include "config_keys.hpp"
#include "unit/config/temp_file.hpp"

namespace c10k::app {

// This binary links the subcommands' objects without main.cpp, so the registry they register
// into is defined here; the test then builds the same `c10k` command tree main() does.
std::vector<CommandSetup>& command_registry() {
    static std::vector<CommandSetup> registry;
    return registry;
}

namespace {

using config::test::TempConfig;

/// The real top-level app, with every subcommand registered as main() does.
struct RealApp {
    CLI::App app{"c10k"};
    CLI::App* serve = nullptr;
    RealApp() {
        for (auto& setup : command_registry()) setup(app);
        serve = app.get_subcommand("serve");
    }
};

TEST(ServeConfigKeys, EveryServeOptionHasAKeyOrIsAModeOfTheCommand) {
    RealApp real;
    ASSERT_NE(real.serve, nullptr);
    config::KeyTable table = serve_key_table(*real.serve);
    std::set<std::string> modes = {"help", "config", "check-config", "config-reference"};
    std::size_t settings = 0;
    for (const CLI::Option* option : real.serve->get_options()) {
        ASSERT_FALSE(option->get_lnames().empty()) << option->get_name() << " has no long name";
        std::string flag = option->get_lnames().front();
        if (modes.count(flag) != 0) {
            EXPECT_FALSE(key_place(flag).has_value()) << flag;
            continue;
        }
        ++settings;
        auto place = key_place(flag);
        ASSERT_TRUE(place.has_value()) << "--" << flag << " has no config key";
        const config::Key* key = table.find(place->table, place->name);
        ASSERT_NE(key, nullptr) << "--" << flag << " has no config key";
        EXPECT_EQ(key->flag, flag);
        EXPECT_EQ(key->help, option->get_description()) << flag;
    }
    EXPECT_EQ(table.keys.size(), settings);
    std::vector<std::string> tables;
    for (const auto& info : table.tables) tables.push_back(info.name);
    EXPECT_EQ(tables, (std::vector<std::string>{"server", "push", "redis", "websocket", "cgi",
                                               "fastcgi"}));
    for (const config::Key& key : table.keys) {
        EXPECT_NE(table.find_table(key.table), nullptr) << key.name;
    }
}

TEST(ServeConfigKeys, KindsAndDefaultsComeFromTheOptions) {
    RealApp real;
    config::KeyTable table = serve_key_table(*real.serve);
    struct Expected {
        const char* table;
        const char* name;
        config::Kind kind;
        std::vector<std::string> defaults;
    };
    for (const Expected& e : std::vector<Expected>{
             {"server", "listen", config::Kind::string_list, {"127.0.0.1:8080"}},
             {"server", "root", config::Kind::string, {}},
             {"server", "threads", config::Kind::integer, {}},
             {"server", "max_connections", config::Kind::unsigned_integer, {"0"}},
             {"server", "header_timeout", config::Kind::duration, {"10s"}},
             {"server", "batch", config::Kind::duration, {"0"}},
             {"server", "follow_symlinks", config::Kind::boolean, {"false"}},
             {"push", "prefixes", config::Kind::string_list, {}},
             {"push", "publish_listen", config::Kind::string, {"127.0.0.1:8081"}},
             {"push", "heartbeat", config::Kind::duration, {"15s"}},
             {"push", "demo_interval", config::Kind::duration, {"3s"}},
             {"redis", "url", config::Kind::string, {}},
             {"redis", "require", config::Kind::boolean, {"false"}},
             {"websocket", "deflate", config::Kind::boolean, {"true"}},
             {"websocket", "ping_interval", config::Kind::duration, {"30s"}},
         }) {
        const config::Key* key = table.find(e.table, e.name);
        ASSERT_NE(key, nullptr) << e.table << " " << e.name;
        EXPECT_EQ(key->kind, e.kind) << e.name;
        EXPECT_EQ(key->default_values, e.defaults) << e.name;
        EXPECT_EQ(key->has_default, !e.defaults.empty()) << e.name;
    }
}

TEST(ServeConfigKeys, FlagsArePlacedByRule) {
    auto place = [](std::string_view flag) {
        auto found = key_place(flag);
        return found ? found->table + " " + found->name : std::string("none");
    };
    EXPECT_EQ(place("max-connections"), "server max_connections");
    EXPECT_EQ(place("push"), "push prefixes");
    EXPECT_EQ(place("publish-listen"), "push publish_listen");
    EXPECT_EQ(place("publish-token"), "push publish_token");
    EXPECT_EQ(place("push-long-poll-timeout"), "push long_poll_timeout");
    EXPECT_EQ(place("demo"), "push demo");
    EXPECT_EQ(place("demo-interval"), "push demo_interval");
    EXPECT_EQ(place("redis"), "redis url");
    EXPECT_EQ(place("redis-password-file"), "redis password_file");
    EXPECT_EQ(place("ws-share-compressed"), "websocket share_compressed");
    EXPECT_EQ(place("config"), "none");
    EXPECT_EQ(place("check-config"), "none");
    EXPECT_EQ(place("help"), "none");
}

TEST(ServeConfigKeys, AnOptionOfAnUnknownTypeIsAProgrammingError) {
    CLI::App app;
    std::vector<int> ratios;  // a list of integers: the config layer has lists of strings only
    app.add_option("--ratio", ratios);
    try {
        serve_key_table(app);
        FAIL() << "no error";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("--ratio"), std::string::npos) << e.what();
    }
}

TEST(ServeConfigKeys, TwoOptionsWithOneKeyAreAProgrammingError) {
    CLI::App app;
    std::string a, b;
    app.add_option("--redis", a);
    app.add_option("--redis-url", b);  // [redis] url too
    EXPECT_THROW(serve_key_table(app), std::logic_error);
}

/// A small stand-in for `serve`: each kind of option the real one has.
struct MiniServe {
    CLI::App app{"mini"};
    CLI::App* cmd = app.add_subcommand("serve");
    std::vector<std::string> listen{"127.0.0.1:8080"};
    int threads = 1;
    bool follow = false;
    bool deflate = true;
    std::string timeout = "10s";
    MiniServe() {
        cmd->add_option("--listen", listen)->capture_default_str();
        cmd->add_option("--threads", threads)->capture_default_str();
        cmd->add_flag("--follow-symlinks", follow);
        cmd->add_option("--ws-deflate", deflate)->capture_default_str();
        cmd->add_option("--header-timeout", timeout)->capture_default_str()->type_name("DURATION");
    }
};

TEST(ApplyConfigFile, FileValuesFillTheOptionsTheCommandLineDidNotGive) {
    MiniServe mini;
    mini.app.parse("serve --threads 2", false);
    TempConfig file(
        "[server]\n"
        "listen = [\"127.0.0.1:81\", \"127.0.0.1:82\"]\n"
        "threads = 8\n"
        "follow_symlinks = true\n"
        "header_timeout = \"5s\"\n"
        "[websocket]\n"
        "deflate = false\n");
    AppliedConfig applied = apply_config_file(*mini.cmd, file.path(), serve_key_table(*mini.cmd));
    ConfigOrigins& origins = applied.origins;
    EXPECT_TRUE(applied.hosts.empty());
    EXPECT_EQ(mini.threads, 2);  // the command line wins
    EXPECT_EQ(mini.listen, (std::vector<std::string>{"127.0.0.1:81", "127.0.0.1:82"}));
    EXPECT_TRUE(mini.follow);
    EXPECT_FALSE(mini.deflate);
    EXPECT_EQ(mini.timeout, "5s");
    EXPECT_EQ(origins.count("threads"), 0u);
    ASSERT_EQ(origins.count("listen"), 1u);
    EXPECT_EQ(origins["listen"].line, 2);
    EXPECT_EQ(origins["listen"].label, "[server] listen");
    EXPECT_EQ(origins["listen"].path, file.path());
}

TEST(ApplyConfigFile, AFlagSetFalseInTheFileStaysOff) {
    MiniServe mini;
    mini.app.parse("serve", false);
    TempConfig file("[server]\nfollow_symlinks = false\n");
    apply_config_file(*mini.cmd, file.path(), serve_key_table(*mini.cmd));
    EXPECT_FALSE(mini.follow);
}

TEST(ApplyConfigFile, AValueTheOptionCannotTakeNamesTheFileLineAndKey) {
    MiniServe mini;
    mini.app.parse("serve", false);
    TempConfig file("[server]\n\nthreads = 99999999999\n");
    try {
        apply_config_file(*mini.cmd, file.path(), serve_key_table(*mini.cmd));
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        std::string message = e.what();
        EXPECT_EQ(message.rfind(file.path() + ":3: [server] threads: cannot take 99999999999", 0),
                  0u)
            << message;
    }
}

TEST(ApplyConfigFile, LoadErrorsAreThrownOnePerLine) {
    MiniServe mini;
    mini.app.parse("serve", false);
    TempConfig file("[server]\nthreads = \"x\"\nbogus = 1\n");
    try {
        apply_config_file(*mini.cmd, file.path(), serve_key_table(*mini.cmd));
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  file.path() + ":2: [server] threads: expected an integer, got a string\n" +
                      file.path() +
                      ":3: [server] bogus: unknown key (keys of [server]: listen, threads, "
                      "follow_symlinks, header_timeout)");
    }
    EXPECT_EQ(mini.threads, 1);
}

TEST(ApplyConfigFile, TheHostsComeFromTheSameLoadAsTheSettings) {
    MiniServe mini;
    mini.app.parse("serve", false);
    TempConfig file(
        "[server]\nthreads = 4\n[[host]]\nnames = [\"a.test\"]\nroot = \"/srv/a\"\n"
        "[[host.location]]\npath = \"/live/\"\npush = true\n");
    AppliedConfig applied = apply_config_file(*mini.cmd, file.path(), serve_key_table(*mini.cmd));
    EXPECT_EQ(mini.threads, 4);
    ASSERT_EQ(applied.hosts.hosts.size(), 1u);
    EXPECT_EQ(applied.hosts.hosts[0].names, (std::vector<std::string>{"a.test"}));
    EXPECT_EQ(applied.hosts.hosts[0].root, "/srv/a");
    EXPECT_EQ(applied.hosts.hosts[0].root_line, 5);
    ASSERT_EQ(applied.hosts.hosts[0].locations.size(), 1u);
    EXPECT_TRUE(applied.hosts.hosts[0].locations[0].push);
}

TEST(ApplyConfigFile, ErrorsOfTheHostsAreThrownWithTheRest) {
    MiniServe mini;
    mini.app.parse("serve", false);
    TempConfig file("[[host]]\nnames = [\"a.test\"]\nroot = 1\n[server]\nthreads = 4\n");
    try {
        apply_config_file(*mini.cmd, file.path(), serve_key_table(*mini.cmd));
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  file.path() +
                      ":3: [host] root: expected a string such as \"/srv/www\", got an integer");
    }
    EXPECT_EQ(mini.threads, 1);  // nothing of a file with errors is applied
}

TEST(WithOrigin, AMessageAboutAFlagFromTheFileNamesItsLine) {
    ConfigOrigins origins;
    origins["engine"] = ConfigOrigin{"c.toml", 4, "[server] engine"};
    EXPECT_EQ(with_origin("--engine: unknown engine 'x'", origins),
              "c.toml:4: [server] engine: --engine: unknown engine 'x'");
    EXPECT_EQ(with_origin("--engine uring does not work here", origins),
              "c.toml:4: [server] engine: --engine uring does not work here");
    EXPECT_EQ(with_origin("--threads must be at least 1", origins), "--threads must be at least 1");
    EXPECT_EQ(with_origin("--engines", origins), "--engines");
    EXPECT_EQ(with_origin("static root 'x' missing", origins), "static root 'x' missing");
}

}  // namespace
}  // namespace c10k::app
