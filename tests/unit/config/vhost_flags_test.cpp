// `c10k serve --config FILE` with [[host]] tables, as prepare_serve wires it: the static handler
// wrapped in a HostRouter whose roots are opened at start, with every root that cannot be and
// every push location that push would never see reported as "FILE:LINE: [table] key: ...". The
// tables come from the loader, as apply_config_file hands them on (the errors of the file itself
// are the loader's: hosts_test.cpp, serve_keys_test.cpp).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/load.hpp"
#include "unit/config/temp_file.hpp"
#include "unit/serve/test_tree.hpp"
#include "vhost_flags.hpp"

namespace c10k::app {
namespace {

using config::test::TempConfig;

/// The server's own handler chain, as far as the router can tell: it answers 299.
class ServerChain final : public http::Handler {
public:
    void handle(const http::Request&, http::Response& response) override {
        response.set_status(299);
    }
};

engine::HandlerFactory server_chain() {
    return [] { return std::make_unique<ServerChain>(); };
}

void write_file(const std::string& path, const std::string& contents) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << contents;
}

/// What a handler answers to GET target with that Host: the status and the body.
std::string answer(http::Handler& handler, std::string_view host, std::string_view target) {
    http::Header headers[] = {{"Host", host}};
    http::Request request;
    request.method = http::Method::get;
    request.target = target;
    request.headers = headers;
    http::Response response;
    handler.handle(request, response);
    return std::to_string(response.status()) + " " + serve::testing::body_of(response);
}

/// The [[host]] tables of the file at `path`, read by the loader as `serve --config` reads them
/// (the files here have no settings but [server] threads).
config::HostsConfig hosts_in(const std::string& path) {
    config::KeyTable table;
    table.tables = {{"server", ""}};
    table.keys = {{"server", "threads", config::Kind::integer, "threads", "", {}, false}};
    config::Loaded loaded = config::load(path, table);
    EXPECT_TRUE(loaded.ok()) << loaded.error_text();
    return loaded.hosts;
}

/// The message enable_virtual_hosts throws for the file `contents`, with its path as "FILE".
std::string error_of(const std::string& contents, const PushFlags& push = {}) {
    TempConfig file(contents);
    serve::StaticOptions options;
    options.root = file.dir();
    engine::HandlerFactory handlers = server_chain();
    try {
        enable_virtual_hosts(file.path(), hosts_in(file.path()), options, push, handlers);
    } catch (const std::runtime_error& e) {
        std::string text = e.what();
        for (std::size_t at = text.find(file.path()); at != std::string::npos;
             at = text.find(file.path())) {
            text.replace(at, file.path().size(), "FILE");
        }
        return text;
    }
    ADD_FAILURE() << "no error for\n" << contents;
    return "";
}

TEST(VirtualHosts, WithoutHostsTheHandlersStayAsTheyWere) {
    serve::StaticOptions options;
    options.root = "/";
    engine::HandlerFactory handlers = server_chain();
    enable_virtual_hosts("", {}, options, {}, handlers);
    EXPECT_NE(dynamic_cast<ServerChain*>(handlers().get()), nullptr);

    TempConfig file("[server]\nthreads = 1\n");
    enable_virtual_hosts(file.path(), hosts_in(file.path()), options, {}, handlers);
    EXPECT_NE(dynamic_cast<ServerChain*>(handlers().get()), nullptr);
}

TEST(VirtualHosts, HostsAndLocationsServeTheirOwnRoots) {
    TempConfig file("");
    std::string a = file.dir() + "/a";
    std::string b = file.dir() + "/b";
    std::string files = file.dir() + "/files";
    write_file(a + "/index.html", "site a");
    write_file(b + "/index.html", "site b");
    write_file(files + "/downloads/f.txt", "a download");
    write_file(a + "/downloads/f.txt", "not this one");
    std::ofstream(file.path()) << "[[host]]\nnames = [\"a.test\", \"*.a.test\"]\nroot = \"" << a
                               << "\"\n[[host.location]]\npath = \"/downloads/\"\nroot = \""
                               << files << "\"\n[[host.location]]\npath = \"/live/\"\npush = "
                               << "true\n[[host]]\nnames = [\"b.test\"]\nroot = \"" << b
                               << "\"\n[[host.location]]\npath = \"/downloads/\"\nroot = \""
                               << files << "\"\n[[host]]\nnames = [\"own.test\"]\ndefault = true\n";
    serve::StaticOptions options;
    options.root = file.dir();
    PushFlags push;
    push.prefixes = {"/live/"};
    engine::HandlerFactory handlers = server_chain();
    enable_virtual_hosts(file.path(), hosts_in(file.path()), options, push, handlers);

    std::unique_ptr<http::Handler> router = handlers();
    EXPECT_EQ(answer(*router, "a.test", "/"), "200 site a");
    EXPECT_EQ(answer(*router, "www.A.test:8080", "/"), "200 site a");
    EXPECT_EQ(answer(*router, "b.test", "/"), "200 site b");
    EXPECT_EQ(answer(*router, "a.test", "/downloads/f.txt"), "200 a download");
    EXPECT_EQ(answer(*router, "b.test", "/downloads/f.txt"), "200 a download");
    EXPECT_EQ(answer(*router, "a.test", "/live/score"), "299 ");
    EXPECT_EQ(answer(*router, "own.test", "/"), "299 ");      // no root: the server's own
    EXPECT_EQ(answer(*router, "unknown.test", "/"), "299 ");  // the default host
    // A second loop's router serves the same.
    std::unique_ptr<http::Handler> another = handlers();
    EXPECT_EQ(answer(*another, "b.test", "/"), "200 site b");
}

TEST(VirtualHosts, EveryRootThatCannotBeOpenedIsReportedWithItsLine) {
    TempConfig probe("");
    std::string missing = probe.dir() + "/missing";
    std::string a_file = probe.path();  // a file, not a directory
    EXPECT_EQ(error_of("[[host]]\nnames = [\"a.test\"]\nroot = \"" + missing +
                       "\"\n[[host.location]]\npath = \"/f/\"\nroot = \"" + a_file +
                       "\"\n[[host]]\nnames = [\"b.test\"]\nroot = \"" + missing + "\"\n"),
              "FILE:3: [host] root: static root '" + missing +
                  "' cannot be opened: No such file or directory (allowed: a directory the "
                  "server may read)\n"
                  "FILE:6: [host.location] root: static root '" +
                  a_file +
                  "' is not a directory: Not a directory (allowed: a directory the server may "
                  "read)\n"
                  "FILE:9: [host] root: static root '" +
                  missing +
                  "' cannot be opened: No such file or directory (allowed: a directory the "
                  "server may read)");
}

TEST(VirtualHosts, APushLocationNeedsPushOnAndOneOfItsPrefixes) {
    const std::string file =
        "[[host]]\nnames = [\"a.test\"]\n[[host.location]]\npath = "
        "\"/live/\"\npush = true\n";
    EXPECT_EQ(error_of(file),
              "FILE:5: [host.location] push: push is off, so nothing serves '/live/' as push "
              "(turn it on with [push] prefixes = [\"/live/\"], or give the location a root "
              "instead)");
    PushFlags other;
    other.prefixes = {"/other/", "/news/"};
    EXPECT_EQ(error_of(file, other),
              "FILE:5: [host.location] push: '/live/' neither lies under a push prefix nor holds "
              "one ([push] prefixes: /other/, /news/); push serves its prefixes ahead of the "
              "hosts, so add '/live/' to them or give the location a root instead");
    // Under a prefix, holding one, or the demo's /live/: accepted.
    TempConfig good(file);
    config::HostsConfig hosts = hosts_in(good.path());
    serve::StaticOptions options;
    options.root = good.dir();
    for (const std::vector<std::string>& prefixes :
         {std::vector<std::string>{"/live/"}, std::vector<std::string>{"/li"},
          std::vector<std::string>{"/news/", "/live/scores/"}}) {
        PushFlags push;
        push.prefixes = prefixes;
        engine::HandlerFactory handlers = server_chain();
        EXPECT_NO_THROW(enable_virtual_hosts(good.path(), hosts, options, push, handlers))
            << prefixes.back();
    }
    PushFlags demo;
    demo.demo = true;
    engine::HandlerFactory handlers = server_chain();
    EXPECT_NO_THROW(enable_virtual_hosts(good.path(), hosts, options, demo, handlers));
}

}  // namespace
}  // namespace c10k::app
