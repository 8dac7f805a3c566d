// Virtual hosts and locations with the real binary: a config file with two hosts of different
// roots, a location with a root of its own, a host with none (the [server] root) and a default
// host; requests over real sockets on 127.0.0.1 with different Host headers (on one keep-alive
// connection too) get the file of the root their host and path choose, on every engine. A bad
// file is refused by -t and at start naming the file, the line and the key.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "support/http_client.hpp"
#include "support/push_server.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// The sites of a test: each root's index.html says which root it is.
struct Sites {
    TempDir dir;
    Sites() {
        dir.write("server/index.html", "server root");
        dir.write("a/index.html", "site a");
        dir.write("a/downloads/f.txt", "a's own downloads: never served");
        dir.write("b/index.html", "site b");
        dir.write("files/downloads/f.txt", "a download");
    }
    std::string root(const std::string& name) const { return dir.path() + "/" + name; }

    /// A config with hosts a (and its subdomains), b (the default) and c (no root).
    std::string config() const {
        return dir.write("c10k.toml", in_dir(R"([server]
listen = ["127.0.0.1:0"]
threads = 1
root = "$DIR/server"

[[host]]
names = ["a.test", "*.a.test"]
root = "$DIR/a"
[[host.location]]
path = "/downloads/"
root = "$DIR/files"

[[host]]
names = ["b.test"]
root = "$DIR/b"
default = true

[[host]]
names = ["c.test"]
)"));
    }

    /// `text` with each "$DIR" replaced by the directory's path.
    std::string in_dir(std::string text) const {
        for (std::size_t at = text.find("$DIR"); at != std::string::npos; at = text.find("$DIR"))
            text.replace(at, 4, dir.path());
        return text;
    }
};

/// GET `path` with the Host header `host` on `client`'s keep-alive connection.
HttpResponse get(HttpClient& client, const std::string& host, const std::string& path) {
    client.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    HttpResponse response;
    EXPECT_TRUE(client.read_response(response)) << host << path << ": " << client.error();
    return response;
}

class VirtualHostsOnEveryEngine : public ::testing::TestWithParam<std::string> {};

TEST_P(VirtualHostsOnEveryEngine, EachHostAndLocationServesItsOwnRoot) {
    Sites sites;
    std::vector<std::string> args = {"serve", "--config", sites.config(), "--engine", GetParam()};
    // Prefork's default of 16 workers is more than a test needs.
    if (GetParam() == "prefork") args.insert(args.end(), {"--processes", "2"});
    ServerProcess server(args);
    HttpClient client(server.port());
    struct Case {
        std::string host;
        std::string path;
        int status;
        std::string body;
    };
    // One connection, a different host per request: the choice is made per request.
    for (const Case& c : std::vector<Case>{
             {"a.test", "/", 200, "site a"},
             {"b.test", "/", 200, "site b"},
             {"WWW.A.Test:" + std::to_string(server.port()), "/", 200, "site a"},
             {"deep.www.a.test", "/index.html", 200, "site a"},
             {"a.test", "/downloads/f.txt", 200, "a download"},
             {"x.a.test", "/%64ownloads/f.txt", 200, "a download"},
             {"a.test", "/x/../downloads/f.txt", 200, "a download"},
             {"b.test", "/downloads/f.txt", 404, ""},
             {"c.test", "/", 200, "server root"},
             {"unknown.test", "/", 200, "site b"},
             {"127.0.0.1:" + std::to_string(server.port()), "/", 200, "site b"},
             {"", "/", 200, "site b"},  // an empty Host, as HTTP/1.1 allows
         }) {
        HttpResponse response = get(client, c.host, c.path);
        EXPECT_EQ(response.status, c.status) << c.host << " " << c.path;
        if (c.status == 200) EXPECT_EQ(response.body, c.body) << c.host << " " << c.path;
    }
    // HTTP/1.0 without a Host header goes to the default host too.
    HttpClient old(server.port());
    old.send("GET / HTTP/1.0\r\n\r\n");
    HttpResponse response;
    ASSERT_TRUE(old.read_response(response)) << old.error();
    EXPECT_EQ(response.body, "site b");
    EXPECT_EQ(server.stop(), 0) << server.output();
}

std::vector<std::string> every_engine_here() {
    std::vector<std::string> names;
    for (const auto& name : engine::available()) names.push_back(name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(Engines, VirtualHostsOnEveryEngine,
                         ::testing::ValuesIn(every_engine_here()), engine_param_name);

TEST(VirtualHosts, CheckAcceptsAGoodFile) {
    Sites sites;
    std::string path = sites.config();
    CommandResult r = run_command({"serve", "-t", "--config", path});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("c10k: configuration " + path + " is valid"), std::string::npos)
        << r.output;
}

TEST(VirtualHosts, CheckRefusesBadHostsNamingTheFileTheLineAndTheKey) {
    Sites sites;
    struct Case {
        std::string contents;
        std::vector<std::string> expected;  ///< each after "c10k serve: FILE:"
    };
    const std::string listen = "[server]\nlisten = [\"127.0.0.1:0\"]\n";
    for (const Case& c : std::vector<Case>{
             // What the file says: every error at once.
             {listen + "[[host]]\nnames = [\"a.test\"]\nrooot = \"/srv\"\n[[host.location]]\n"
                       "path = \"downloads/\"\nroot = \"/srv\"\n[[host]]\nnames = [\"A.test\"]\n"
                       "default = true\n[[host]]\nnames = [\"b.test\"]\ndefault = true\n"
                       "[[host.location]]\npath = \"/app/\"\nproxy = \"pool\"\n",
              {"5: [host] rooot: unknown key; did you mean 'root'?",
               "7: [host.location] path: 'downloads/' does not start with '/'",
               "10: [host] names: 'a.test' is a name of the [[host]] at line 3 already",
               "14: [host] default: a second default host; the [[host]] at line 9 is the "
               "default already",
               "17: [host.location] proxy: proxy pools are not built yet (issue 13)"}},
             // What only serving finds: roots that cannot be opened, push that is off.
             {listen + "[[host]]\nnames = [\"a.test\"]\nroot = \"" + sites.root("missing") +
                  "\"\n[[host.location]]\npath = \"/live/\"\npush = true\n"
                  "[[host.location]]\npath = \"/f/\"\nroot = \"" +
                  sites.root("a/index.html") + "\"\n",
              {"5: [host] root: static root '" + sites.root("missing") +
                   "' cannot be opened: No such file or directory",
               "8: [host.location] push: push is off",
               "11: [host.location] root: static root '" + sites.root("a/index.html") +
                   "' is not a directory"}},
         }) {
        std::string path = sites.dir.write("bad.toml", c.contents);
        CommandResult r = run_command({"serve", "-t", "--config", path});
        EXPECT_EQ(r.status, 1) << c.contents << r.output;
        for (const std::string& expected : c.expected) {
            EXPECT_NE(r.output.find("c10k serve: " + path + ":" + expected), std::string::npos)
                << expected << "\n"
                << r.output;
        }
        EXPECT_EQ(r.output.find("is valid"), std::string::npos) << r.output;
    }
}

TEST(VirtualHosts, ARootThatCannotBeOpenedStopsTheStart) {
    Sites sites;
    std::string path =
        sites.dir.write("bad.toml",
                        "[server]\nlisten = [\"127.0.0.1:0\"]\n[[host]]\nnames = [\"a.test\"]\n"
                        "[[host.location]]\npath = \"/x/\"\nroot = \"" +
                            sites.root("missing") + "\"\n");
    CommandResult r = run_command({"serve", "--config", path});
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("c10k serve: " + path + ":7: [host.location] root: static root '" +
                            sites.root("missing") + "' cannot be opened"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("serving"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace c10k::test
