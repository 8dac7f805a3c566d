// The live scoreboard demo (examples/site) in real headless Chromium against the real binary:
// the page shows the current score at once and each publish as it arrives, says how it is
// connected, falls back to long-poll when asked to, and to reloading score.json where the
// server has no live channel. Screenshots land in the build directory for a person to look at.
//
// Chromium is required: without it these tests fail and name the install command.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "serve/demo_game.hpp"
#include "support/browser.hpp"
#include "support/http_client.hpp"
#include "support/json_value.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

// Generous: two cores shared with parallel test processes (a load average of 25 was seen while
// writing this), and Chromium starting cold. These bound the waits; no assertion is about how
// long anything took.
constexpr int page_timeout_ms = 45000;
constexpr int update_timeout_ms = 30000;

std::string site_root() {
    return std::string(C10K_SOURCE_DIR) + "/examples/site";
}

/// Where screenshots go: the build directory, beside the c10k binary.
std::string screenshot_path(const std::string& name) {
    return (std::filesystem::path(binary_path()).parent_path() / name).string();
}

/// The publish port from the line "c10k: publishing on http://127.0.0.1:PORT/pub/".
int publish_port(ServerProcess& server) {
    static const std::regex line(R"(publishing on http://127\.0\.0\.1:([0-9]+)/pub/)");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch match;
        std::string output = server.output();
        if (std::regex_search(output, match, line)) return std::stoi(match[1].str());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
}

/// POSTs `body` to /pub/<channel> on the publish listener; the response status.
int publish(int port, const std::string& channel, const std::string& body) {
    HttpClient client(port);
    client.send("POST /pub/" + channel +
                " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                "Content-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
    HttpResponse response;
    if (!client.read_response(response)) return 0;
    return response.status;
}

/// What the page shows, read from its DOM.
struct Shown {
    std::string connection;
    std::string seq;
    std::string visitors_total;
    std::string home_total;
    std::string play;
    std::string updated;
};

Shown read_page(HeadlessBrowser& browser) {
    auto text = [&](const char* id) {
        return browser.evaluate(std::string("(document.getElementById('") + id +
                                "') || {}).textContent || ''");
    };
    Shown shown;
    shown.connection = text("connection");
    shown.seq = browser.evaluate("document.body.dataset.seq || ''");
    shown.visitors_total = text("total-0");
    shown.home_total = text("total-1");
    shown.play = text("play");
    shown.updated = text("updated");
    return shown;
}

std::string describe(HeadlessBrowser& browser) {
    Shown s = read_page(browser);
    return "page shows: connection='" + s.connection + "' seq='" + s.seq + "' totals='" +
           s.visitors_total + "-" + s.home_total + "' play='" + s.play + "' updated='" + s.updated +
           "'";
}

/// A JavaScript condition: the page has rendered the snapshot of `game` and its connection
/// status reads `connection`.
std::string shows(const serve::DemoGame& game, const std::string& connection) {
    return "document.body.dataset.seq === '" + std::to_string(game.sequence()) +
           "' && document.getElementById('connection').textContent === " + json_string(connection);
}

void expect_page_shows(HeadlessBrowser& browser, const serve::DemoGame& game) {
    Shown s = read_page(browser);
    EXPECT_EQ(s.visitors_total, std::to_string(game.teams()[0].total()));
    EXPECT_EQ(s.home_total, std::to_string(game.teams()[1].total()));
    EXPECT_EQ(s.play, game.play());
    EXPECT_EQ(s.updated.rfind("updated ", 0), 0u) << s.updated;
    std::string names = browser.evaluate("document.getElementById('teams').textContent");
    EXPECT_NE(names.find(game.teams()[0].name), std::string::npos) << names;
    EXPECT_NE(names.find(game.teams()[1].name), std::string::npos) << names;
}

/// Steps the game until its score differs from what it is now, so that the page must change
/// a total to pass.
void play_until_a_run_scores(serve::DemoGame& game) {
    int visitors = game.teams()[0].total();
    int home = game.teams()[1].total();
    for (int step = 0; step < 1000; ++step) {
        game.advance();
        if (!game.final() &&
            (game.teams()[0].total() != visitors || game.teams()[1].total() != home)) {
            return;
        }
    }
    FAIL() << "the simulator did not score in 1000 steps";
}

class DemoBrowser : public ::testing::Test {
protected:
    void SetUp() override {
        chromium_ = find_chromium();
        ASSERT_FALSE(chromium_.empty())
            << "headless Chromium is needed for this test and was not found (set "
               "C10K_CHROMIUM or put chromium on PATH). Install it with: "
            << browser_install_command;
    }

    /// `c10k serve` on the demo site with a live channel, as `make run` serves it but without
    /// --demo, so that the test decides what is published.
    std::unique_ptr<ServerProcess> start_live_server() {
        auto server = std::make_unique<ServerProcess>(std::vector<std::string>{
            "serve", "--root", site_root(), "--listen", "127.0.0.1:0", "--push", "/live/",
            "--publish-listen", "127.0.0.1:0", "--push-first", "newest"});
        publish_port_ = publish_port(*server);
        return server;
    }

    void follow_the_game(const std::string& query, const std::string& status, unsigned seed,
                         const std::string& screenshot);

    std::string chromium_;
    int publish_port_ = 0;
};

/// Opens the page (with `query`, which may force a transport) on a live server, and checks
/// that it shows the score published before it opened at once, then each next one as it
/// arrives, over the transport whose status line reads `status`, without reloading.
void DemoBrowser::follow_the_game(const std::string& query, const std::string& status,
                                  unsigned seed, const std::string& screenshot) {
    auto server = start_live_server();
    ASSERT_GT(publish_port_, 0) << "no publish line in the output:\n" << server->output();
    serve::DemoGame game(seed);
    play_until_a_run_scores(game);
    ASSERT_EQ(publish(publish_port_, "score", game.snapshot_json()) / 100, 2);

    HeadlessBrowser browser(chromium_);
    browser.navigate("http://127.0.0.1:" + std::to_string(server->port()) + "/" + query);
    // The score published before the page opened shows at once (--push-first newest).
    ASSERT_TRUE(browser.wait_until(shows(game, status), page_timeout_ms))
        << describe(browser) << "\nserver:\n"
        << server->output();
    expect_page_shows(browser, game);

    // While the page is open: the next scores arrive without a reload.
    for (int update = 0; update < 2; ++update) {
        play_until_a_run_scores(game);
        ASSERT_EQ(publish(publish_port_, "score", game.snapshot_json()) / 100, 2);
        ASSERT_TRUE(browser.wait_until(shows(game, status), update_timeout_ms))
            << "update " << update << ": " << describe(browser);
        expect_page_shows(browser, game);
    }
    EXPECT_EQ(browser.evaluate("String(performance.getEntriesByType('navigation').length)"), "1")
        << "the page reloaded";
    browser.screenshot(screenshot_path(screenshot));
    EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(DemoBrowser, WebSocketShowsTheCurrentScoreAtOnceAndEachPublishAsItArrives) {
    follow_the_game("", "live: WebSocket", 2007, "demo-screenshot.png");
}

TEST_F(DemoBrowser, EventSourceShowsEachPublish) {
    follow_the_game("?transport=eventsource", "live: EventSource", 2008,
                    "demo-screenshot-eventsource.png");
}

TEST_F(DemoBrowser, LongPollFallbackShowsEachPublish) {
    follow_the_game("?transport=long-poll", "live: long-poll", 1, "demo-screenshot-long-poll.png");
}

TEST_F(DemoBrowser, FallsBackToEventSourceWhereWebSocketIsMissingOrNeverOpens) {
    auto server = start_live_server();
    ASSERT_GT(publish_port_, 0) << "no publish line in the output:\n" << server->output();
    serve::DemoGame game(11);
    play_until_a_run_scores(game);
    ASSERT_EQ(publish(publish_port_, "score", game.snapshot_json()) / 100, 2);
    std::string page = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
    {
        HeadlessBrowser browser(chromium_);
        browser.run_before_each_document("delete window.WebSocket;");
        browser.navigate(page);
        ASSERT_TRUE(browser.wait_until(shows(game, "live: EventSource"), page_timeout_ms))
            << describe(browser);
        expect_page_shows(browser, game);
    }
    {
        // Sockets that never open (a proxy that refuses Upgrade): a couple of tries, then
        // EventSource; updates keep coming.
        HeadlessBrowser browser(chromium_);
        browser.run_before_each_document(R"(
            window.webSocketAttempts = 0;
            window.WebSocket = class {
                constructor(url) {
                    ++window.webSocketAttempts;
                    setTimeout(() => this.onclose && this.onclose(new Event('close')), 0);
                }
                close() {}
            };)");
        browser.navigate(page);
        ASSERT_TRUE(browser.wait_until(shows(game, "live: EventSource"), page_timeout_ms))
            << describe(browser);
        EXPECT_EQ(browser.evaluate("String(window.webSocketAttempts)"), "2");
        play_until_a_run_scores(game);
        ASSERT_EQ(publish(publish_port_, "score", game.snapshot_json()) / 100, 2);
        ASSERT_TRUE(browser.wait_until(shows(game, "live: EventSource"), update_timeout_ms))
            << describe(browser);
        expect_page_shows(browser, game);
    }
    EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(DemoBrowser, FallsBackToLongPollWhereEventSourceIsMissingOrNeverOpens) {
    auto server = start_live_server();
    ASSERT_GT(publish_port_, 0) << "no publish line in the output:\n" << server->output();
    serve::DemoGame game(9);
    play_until_a_run_scores(game);
    ASSERT_EQ(publish(publish_port_, "score", game.snapshot_json()) / 100, 2);
    std::string page = "http://127.0.0.1:" + std::to_string(server->port()) + "/";

    {
        // A browser without EventSource goes straight to long-poll.
        HeadlessBrowser browser(chromium_);
        browser.run_before_each_document("delete window.WebSocket; delete window.EventSource;");
        browser.navigate(page);
        ASSERT_TRUE(browser.wait_until(shows(game, "live: long-poll"), page_timeout_ms))
            << describe(browser);
        expect_page_shows(browser, game);
    }
    {
        // One whose streams never open (as behind a proxy that refuses or buffers them)
        // tries a few times, then long-polls; updates keep coming.
        HeadlessBrowser browser(chromium_);
        browser.run_before_each_document(R"(
            delete window.WebSocket;
            window.eventSourceAttempts = 0;
            window.EventSource = class {
                constructor(url) {
                    ++window.eventSourceAttempts;
                    this.readyState = 2;
                    setTimeout(() => this.onerror && this.onerror(new Event('error')), 0);
                }
                addEventListener() {}
                close() {}
            };
            window.EventSource.CONNECTING = 0;
            window.EventSource.OPEN = 1;
            window.EventSource.CLOSED = 2;)");
        browser.navigate(page);
        ASSERT_TRUE(browser.wait_until(shows(game, "live: long-poll"), page_timeout_ms))
            << describe(browser);
        EXPECT_EQ(browser.evaluate("String(window.eventSourceAttempts)"), "3");
        play_until_a_run_scores(game);
        ASSERT_EQ(publish(publish_port_, "score", game.snapshot_json()) / 100, 2);
        ASSERT_TRUE(browser.wait_until(shows(game, "live: long-poll"), update_timeout_ms))
            << describe(browser);
        expect_page_shows(browser, game);
    }
    EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(DemoBrowser, WithoutALiveChannelThePageReloadsScoreJson) {
    // A plain `c10k serve` of the site: /live/score is a 404. WebSocket fails, EventSource
    // fails, long-poll fails, and the page falls back to what the 2007 readers did.
    ServerProcess server({"serve", "--root", site_root(), "--listen", "127.0.0.1:0"});
    std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    HttpResponse file = fetch(server.port(), "/score.json");
    ASSERT_EQ(file.status, 200);
    std::optional<JsonValue> score = parse_json(file.body);
    ASSERT_TRUE(score) << file.body;
    std::string expected_play = (*score)["play"].string;
    std::string expected_seq = std::to_string((*score)["seq"].integer());

    HeadlessBrowser browser(chromium_);
    browser.navigate(base + "/");
    std::string reloading =
        "document.getElementById('connection').textContent.startsWith('reload: score.json')";
    ASSERT_TRUE(
        browser.wait_until(reloading + " && document.body.dataset.seq === '" + expected_seq + "'",
                           page_timeout_ms + update_timeout_ms))
        << describe(browser);
    Shown shown = read_page(browser);
    EXPECT_EQ(shown.play, expected_play);
    EXPECT_EQ(shown.visitors_total,
              std::to_string((*score)["teams"].array.at(0)["total"].integer()));
    EXPECT_EQ(shown.home_total, std::to_string((*score)["teams"].array.at(1)["total"].integer()));

    // The 2007 page reloads score.json from the start.
    browser.navigate(base + "/reload.html");
    ASSERT_TRUE(browser.wait_until(
        reloading + " && document.body.dataset.seq === '" + expected_seq + "'", page_timeout_ms))
        << describe(browser);
    // A finished game whose home side did not bat in the 9th shows an x there.
    if ((*score)["status"].string == "final" &&
        (*score)["teams"].array.at(1)["runs"].array.size() <
            (*score)["teams"].array.at(0)["runs"].array.size()) {
        EXPECT_EQ(browser.evaluate("document.querySelector('#teams tr:nth-child(2) "
                                   "td:nth-of-type(9)').textContent"),
                  "x");
    }
    browser.screenshot(screenshot_path("demo-screenshot-reload.png"));
    EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace c10k::test
