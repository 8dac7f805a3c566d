// Virtual hosts in a config file ([[host]], [[host.location]]): what the loader reads them as
// (Loaded::hosts), and every class of error with the file, the line and the key, reported in
// file order with the errors of the other tables.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/hosts.hpp"
#include "config/load.hpp"
#include "unit/config/temp_file.hpp"

namespace c10k::config {
namespace {

using test::TempConfig;

/// Keys for the files here that have settings besides their hosts: [server] threads.
KeyTable threads_table() {
    KeyTable table;
    table.tables = {{"server", ""}};
    table.keys = {{"server", "threads", Kind::integer, "threads", "", {}, false}};
    return table;
}

/// The errors of `contents`, with the file's path replaced by "FILE".
std::vector<std::string> errors_of(const std::string& contents) {
    TempConfig file(contents);
    Loaded loaded = load(file.path(), threads_table());
    EXPECT_TRUE(loaded.hosts.empty()) << "a file with errors gives no hosts";
    std::vector<std::string> errors;
    for (const std::string& error : loaded.errors) {
        std::string text = error;
        if (text.rfind(file.path(), 0) == 0) text = "FILE" + text.substr(file.path().size());
        errors.push_back(text);
    }
    return errors;
}

/// The only error of `contents` (a failure when there is none or several).
std::string only_error(const std::string& contents) {
    std::vector<std::string> errors = errors_of(contents);
    EXPECT_EQ(errors.size(), 1u) << contents;
    std::string all;
    for (const std::string& error : errors) all += error + "\n";
    return errors.size() == 1 ? errors.front() : all;
}

HostsConfig hosts_of(const std::string& contents) {
    TempConfig file(contents);
    Loaded loaded = load(file.path(), threads_table());
    EXPECT_TRUE(loaded.ok()) << loaded.error_text();
    return loaded.hosts;
}

TEST(ConfigHosts, HostsAndLocationsReadInFileOrderWithTheirLines) {
    HostsConfig config = hosts_of(
        "[server]\n"
        "threads = 1\n"
        "\n"
        "[[host]]\n"
        "names = [\"Example.COM\", \"www.example.com\", \"*.example.org\"]\n"
        "root = \"/srv/example\"\n"
        "[[host.location]]\n"
        "path = \"/downloads/\"\n"
        "root = \"/srv/files\"\n"
        "[[host.location]]\n"
        "path = \"/live/\"\n"
        "push = true\n"
        "\n"
        "[[host]]\n"
        "names = [\"127.0.0.1\", \"[::1]\"]\n"
        "default = true\n");
    ASSERT_EQ(config.hosts.size(), 2u);
    const HostConfig& first = config.hosts[0];
    EXPECT_EQ(first.names,
              (std::vector<std::string>{"example.com", "www.example.com", "*.example.org"}));
    EXPECT_EQ(first.root, "/srv/example");
    EXPECT_EQ(first.line, 4);
    EXPECT_EQ(first.root_line, 6);
    EXPECT_FALSE(first.is_default);
    ASSERT_EQ(first.locations.size(), 2u);
    EXPECT_EQ(first.locations[0].path, "/downloads/");
    EXPECT_EQ(first.locations[0].root, "/srv/files");
    EXPECT_FALSE(first.locations[0].push);
    EXPECT_EQ(first.locations[0].line, 7);
    EXPECT_EQ(first.locations[0].root_line, 9);
    EXPECT_EQ(first.locations[1].path, "/live/");
    EXPECT_TRUE(first.locations[1].root.empty());
    EXPECT_TRUE(first.locations[1].push);
    EXPECT_EQ(first.locations[1].push_line, 12);
    const HostConfig& second = config.hosts[1];
    EXPECT_EQ(second.names, (std::vector<std::string>{"127.0.0.1", "[::1]"}));
    EXPECT_TRUE(second.root.empty());
    EXPECT_TRUE(second.is_default);
    EXPECT_TRUE(second.locations.empty());
    EXPECT_EQ(config.default_index(), 1u);
}

TEST(ConfigHosts, WithoutADefaultTheFirstHostIsIt) {
    HostsConfig config =
        hosts_of("[[host]]\nnames = [\"a.test\"]\n[[host]]\nnames = [\"b.test\"]\nroot = \"/b\"\n");
    ASSERT_EQ(config.hosts.size(), 2u);
    EXPECT_EQ(config.default_index(), 0u);
}

TEST(ConfigHosts, ADefaultHostMayHaveNoNames) {
    HostsConfig config = hosts_of("[[host]]\ndefault = true\nroot = \"/srv/catch-all\"\n");
    ASSERT_EQ(config.hosts.size(), 1u);
    EXPECT_TRUE(config.hosts[0].names.empty());
    EXPECT_TRUE(config.hosts[0].is_default);
}

TEST(ConfigHosts, AFileWithoutHostsHasNone) {
    EXPECT_TRUE(hosts_of("[server]\nthreads = 2\n").empty());
    EXPECT_TRUE(hosts_of("").empty());
    EXPECT_TRUE(hosts_of("host = []\n").empty());
}

TEST(ConfigHosts, UnknownKeysAreErrorsWithASuggestionOrTheKeysAllowed) {
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\nrooot = \"/x\"\n"),
              "FILE:3: [host] rooot: unknown key; did you mean 'root'?");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\nlisten = [\"127.0.0.1:80\"]\n"),
              "FILE:3: [host] listen: unknown key (keys of [[host]]: names, root, default, "
              "location)");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\n[[host.location]]\npath = \"/a/\"\n"
                         "roots = \"/x\"\n"),
              "FILE:5: [host.location] roots: unknown key; did you mean 'root'?");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\n[[host.location]]\npath = \"/a/\"\n"
                         "root = \"/x\"\nindex = \"index.php\"\n"),
              "FILE:6: [host.location] index: unknown key (keys of [[host.location]]: path, "
              "root, push)");
}

TEST(ConfigHosts, WrongTypesSayWhatIsExpected) {
    EXPECT_EQ(only_error("[[host]]\nnames = \"a.test\"\n"),
              "FILE:2: [host] names: expected an array of strings such as [\"example.com\", "
              "\"*.example.org\"], got a string");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\", 5]\n"),
              "FILE:2: [host] names: element 2 is an integer; expected a string");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\nroot = 5\n"),
              "FILE:3: [host] root: expected a string such as \"/srv/www\", got an integer");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\nroot = \"\"\n"),
              "FILE:3: [host] root: is empty (allowed: a string such as \"/srv/www\")");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\ndefault = \"yes\"\n"),
              "FILE:3: [host] default: expected true or false, got a string");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\n[[host.location]]\npath = \"/a/\"\n"
                         "push = 1\n"),
              "FILE:5: [host.location] push: expected true or false, got an integer");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\n[[host.location]]\npath = 5\n"
                         "root = \"/x\"\n"),
              "FILE:4: [host.location] path: expected a string such as \"/downloads/\", got an "
              "integer");
}

TEST(ConfigHosts, TheShapeOfTheTablesIsChecked) {
    EXPECT_EQ(only_error("[host]\nnames = [\"a.test\"]\n"),
              "FILE:1: [host]: expected an array of tables, got a table (write [[host]], once "
              "per virtual host)");
    EXPECT_EQ(only_error("host = \"a.test\"\n"),
              "FILE:1: [host]: expected an array of tables, got a string (write [[host]], once "
              "per virtual host)");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\n[host.location]\npath = \"/a/\"\n"),
              "FILE:3: [host] location: expected an array of tables, got a table (write "
              "[[host.location]] under its [[host]], once per location)");
}

TEST(ConfigHosts, NamesAreCheckedAndMustBeUniqueAcrossHosts) {
    EXPECT_EQ(only_error("[[host]]\nroot = \"/x\"\n"),
              "FILE:1: [host] names: missing; give the names this host answers to, e.g. names "
              "= [\"example.com\"] (only the default host may have none)");
    EXPECT_EQ(only_error("[[host]]\nnames = []\n"),
              "FILE:2: [host] names: is empty; give the names this host answers to, e.g. "
              "[\"example.com\"] (only the default host may have none)");
    const std::string allowed =
        " (allowed: a name such as \"example.com\", a leading wildcard such as "
        "\"*.example.com\", or an IP address)";
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test:8080\"]\n"),
              "FILE:2: [host] names: 'a.test:8080' has a port; a name has none (the port in a "
              "request's Host is ignored)" +
                  allowed);
    EXPECT_EQ(only_error("[[host]]\nnames = [\"www.*.test\"]\n"),
              "FILE:2: [host] names: 'www.*.test' has a '*' that does not lead; a wildcard is "
              "\"*.\" before a name" +
                  allowed);
    EXPECT_EQ(only_error("[[host]]\nnames = [\"*.\"]\n"),
              "FILE:2: [host] names: '*.' is a wildcard without a name after \"*.\"" + allowed);
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a b.test\"]\n"),
              "FILE:2: [host] names: 'a b.test' has a character that no host name has" + allowed);
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a..test\"]\n"),
              "FILE:2: [host] names: 'a..test' has an empty label (a leading, trailing or "
              "doubled '.')" +
                  allowed);
    EXPECT_EQ(only_error("[[host]]\nnames = [\"[::1\"]\n"),
              "FILE:2: [host] names: '[::1' is not an IPv6 address in brackets" + allowed);
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\n\n[[host]]\nnames = [\"A.Test\"]\n"),
              "FILE:5: [host] names: 'a.test' is a name of the [[host]] at line 1 already (a "
              "name may belong to one host only, once; names are compared ignoring case)");
    EXPECT_EQ(only_error("[[host]]\nnames = [\"*.a.test\", \"*.A.test\"]\n"),
              "FILE:2: [host] names: '*.a.test' is a name of this host already (a name may "
              "belong to one host only, once; names are compared ignoring case)");
}

TEST(ConfigHosts, OneDefaultHostAtMost) {
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a.test\"]\ndefault = true\n"
                         "[[host]]\nnames = [\"b.test\"]\ndefault = true\n"),
              "FILE:6: [host] default: a second default host; the [[host]] at line 1 is the "
              "default already (one host at most)");
}

TEST(ConfigHosts, LocationPathsAreCheckedAndUniquePerHost) {
    const std::string host = "[[host]]\nnames = [\"a.test\"]\n[[host.location]]\n";
    const std::string allowed = " (allowed: a path prefix such as \"/downloads/\")";
    EXPECT_EQ(only_error(host + "path = \"downloads/\"\nroot = \"/x\"\n"),
              "FILE:4: [host.location] path: 'downloads/' does not start with '/'" + allowed);
    EXPECT_EQ(
        only_error(host + "path = \"/a?b\"\nroot = \"/x\"\n"),
        "FILE:4: [host.location] path: '/a?b' has a query or fragment ('?' or '#')" + allowed);
    EXPECT_EQ(only_error(host + "path = \"/a/../b/\"\nroot = \"/x\"\n"),
              "FILE:4: [host.location] path: '/a/../b/' has a '.' or '..' segment, which a "
              "normalised request path never has" +
                  allowed);
    EXPECT_EQ(only_error(host + "path = \"/a//b/\"\nroot = \"/x\"\n"),
              "FILE:4: [host.location] path: '/a//b/' has an empty segment (\"//\"), which a "
              "normalised request path never has" +
                  allowed);
    EXPECT_EQ(only_error(host + "path = \"/a b/\"\nroot = \"/x\"\n"),
              "FILE:4: [host.location] path: '/a b/' has a space or a control character" + allowed);
    EXPECT_EQ(only_error(host + "root = \"/x\"\n"),
              "FILE:3: [host.location] path: missing; give the prefix this location serves, "
              "e.g. path = \"/downloads/\"");
    EXPECT_EQ(only_error(host + "path = \"/a/\"\nroot = \"/x\"\n[[host.location]]\npath = "
                                "\"/a/\"\nroot = \"/y\"\n"),
              "FILE:6: [host.location] path: '/a/' is a location of this host already, at line "
              "3 (each path once per host)");
    // The same path on two hosts is two locations.
    EXPECT_EQ(hosts_of(host + "path = \"/a/\"\nroot = \"/x\"\n[[host]]\nnames = [\"b.test\"]\n"
                              "[[host.location]]\npath = \"/a/\"\nroot = \"/y\"\n")
                  .hosts.size(),
              2u);
}

TEST(ConfigHosts, ALocationHasExactlyOneOfRootAndPush) {
    const std::string host = "[[host]]\nnames = [\"a.test\"]\n[[host.location]]\n";
    EXPECT_EQ(only_error(host + "path = \"/a/\"\nroot = \"/x\"\npush = true\n"),
              "FILE:3: [host.location]: both root and push = true; give one of them (one thing "
              "serves a location)");
    EXPECT_EQ(only_error(host + "path = \"/a/\"\n"),
              "FILE:3: [host.location]: nothing serves it; give root = \"DIR\" (static files) or "
              "push = true (push channels and the server's own handlers)");
    EXPECT_EQ(only_error(host + "path = \"/a/\"\npush = false\n"),
              "FILE:3: [host.location]: nothing serves it; give root = \"DIR\" (static files) or "
              "push = true (push channels and the server's own handlers)");
}

TEST(ConfigHosts, KeysOfLaterIssuesSayTheyAreNotBuiltYet) {
    const std::string location =
        "[[host]]\nnames = [\"a.test\"]\n[[host.location]]\n"
        "path = \"/app/\"\nroot = \"/x\"\n";
    EXPECT_EQ(only_error(location + "proxy = \"pool\"\n"),
              "FILE:6: [host.location] proxy: proxy pools are not built yet (issue 13); a "
              "location today takes root or push = true");
    EXPECT_EQ(only_error(location + "cgi = true\n"),
              "FILE:6: [host.location] cgi: CGI is not built yet (issue 14); a location today "
              "takes root or push = true");
    EXPECT_EQ(only_error(location + "fastcgi = \"127.0.0.1:9000\"\n"),
              "FILE:6: [host.location] fastcgi: FastCGI is not built yet (issue 14); a location "
              "today takes root or push = true");
}

TEST(ConfigHosts, EveryErrorIsReportedInFileOrder) {
    std::vector<std::string> errors = errors_of(
        "[[host]]\n"                // 1
        "root = 5\n"                // 2
        "names = [\"a.test\"]\n"    // 3
        "bogus = 1\n"               // 4
        "[[host.location]]\n"       // 5
        "path = \"x\"\n"            // 6
        "root = \"/x\"\n"           // 7
        "[[host]]\n"                // 8
        "names = [\"a.test\"]\n");  // 9
    EXPECT_EQ(errors, (std::vector<std::string>{
                          "FILE:2: [host] root: expected a string such as \"/srv/www\", got an "
                          "integer",
                          "FILE:4: [host] bogus: unknown key (keys of [[host]]: names, root, "
                          "default, location)",
                          "FILE:6: [host.location] path: 'x' does not start with '/' (allowed: a "
                          "path prefix such as \"/downloads/\")",
                          "FILE:9: [host] names: 'a.test' is a name of the [[host]] at line 1 "
                          "already (a name may belong to one host only, once; names are compared "
                          "ignoring case)",
                      }));
}

TEST(ConfigHosts, TheLoaderAcceptsHostsAndReportsTheirErrorsWithTheRest) {
    KeyTable table = threads_table();

    TempConfig good("[server]\nthreads = 2\n[[host]]\nnames = [\"a.test\"]\nroot = \"/a\"\n");
    Loaded loaded = load(good.path(), table);
    ASSERT_TRUE(loaded.ok()) << loaded.error_text();
    ASSERT_EQ(loaded.settings.size(), 1u);
    ASSERT_EQ(loaded.hosts.hosts.size(), 1u);
    EXPECT_EQ(loaded.hosts.hosts[0].root, "/a");

    TempConfig bad(
        "[server]\nthreads = \"x\"\n[[host]]\nnames = [\"a.test\"]\nrot = \"/a\"\n"
        "[server2]\n");
    Loaded failed = load(bad.path(), table);
    ASSERT_EQ(failed.errors.size(), 3u) << failed.error_text();
    EXPECT_EQ(failed.errors[0], bad.path() +
                                    ":2: [server] threads: expected an integer, got a "
                                    "string");
    EXPECT_EQ(failed.errors[1], bad.path() + ":5: [host] rot: unknown key; did you mean 'root'?");
    EXPECT_EQ(failed.errors[2].rfind(bad.path() + ":6: [server2]: unknown table", 0), 0u)
        << failed.errors[2];
    EXPECT_TRUE(failed.hosts.empty());
}

TEST(ConfigHosts, SyntaxErrorsAndMissingFilesAreNamed) {
    EXPECT_EQ(only_error("[[host]]\nnames = [\"a\"\n").rfind("FILE:2:", 0), 0u);
    Loaded missing = load("/nonexistent-dir/c10k.toml", threads_table());
    ASSERT_EQ(missing.errors.size(), 1u);
    EXPECT_EQ(missing.errors[0],
              "/nonexistent-dir/c10k.toml: cannot read the configuration file: No such file or "
              "directory");
}

}  // namespace
}  // namespace c10k::config
