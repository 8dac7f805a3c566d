// The live status page (/status on the admin listener) in real headless Chromium against the
// real binary: the page draws one uPlot chart per group of counters (push included when the
// server has --push), shows the engine and the totals of what the test did, follows new
// requests without a reload, loads nothing from anywhere but the admin listener, and starts its
// series again when the server restarts under it.
//
// Requests to the admin listener are counted too (the page's own polls and assets, all 200),
// so the test asserts its own requests through a status class nothing else produces: 404s from
// the public listener, counted exactly in the page's 4xx total.
//
// Chromium is required: without it these tests fail and name the install command.
// C10K_STATUS_SCREENSHOT=FILE also copies the screenshot there (for the docs' picture).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_scrape.hpp"
#include "support/browser.hpp"
#include "support/http_client.hpp"
#include "support/push_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

// Generous, as the demo's browser tests: two shared cores and a cold Chromium. They bound the
// waits; nothing asserts how long anything took.
constexpr int page_timeout_ms = 45000;
constexpr int update_timeout_ms = 30000;

/// A loopback port that nothing listens on now (the kernel's pick, released at once), for a
/// server that must come back on the same admin port.
int unused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        port = ntohs(address.sin_port);
    }
    ::close(fd);
    return port;
}

/// `n` requests for a file that is not there: each a 404 from the public listener.
void request_missing(int port, int n) {
    for (int i = 0; i < n; ++i) ASSERT_EQ(fetch(port, "/missing-" + std::to_string(i)).status, 404);
}

/// The text of the element with that id ("" when there is none).
std::string text_of(HeadlessBrowser& browser, const std::string& id) {
    return browser.evaluate("(document.getElementById(" + json_string(id) +
                            ") || {}).textContent || ''");
}

/// A JavaScript condition: the element `id` reads `text`.
std::string reads(const std::string& id, const std::string& text) {
    return "(document.getElementById(" + json_string(id) +
           ") || {}).textContent === " + json_string(text);
}

/// What the page shows, for failure messages.
std::string describe(HeadlessBrowser& browser) {
    std::string out = "page shows:";
    for (const char* id : {"engine", "connection", "notice", "total-requests", "total-2xx",
                           "total-4xx", "push-subscribers"}) {
        out += std::string(" ") + id + "='" + text_of(browser, id) + "'";
    }
    out += " charts='" +
           browser.evaluate(
               "Array.from(document.querySelectorAll('[data-chart]'))"
               ".map(c => c.dataset.chart).join(',')") +
           "' polls=" + browser.evaluate("document.body.dataset.polls || '0'") +
           " errors=" + browser.evaluate("(window.pageErrors || []).join(' | ')");
    return out;
}

/// Keeps the page's script errors and blocked loads (Content-Security-Policy) where the test
/// can read them: a page that half works still draws something.
constexpr const char* record_errors =
    "window.pageErrors = [];"
    "addEventListener('error', e => pageErrors.push(String(e.message || e.type)));"
    "addEventListener('unhandledrejection', e => pageErrors.push(String(e.reason)));"
    "document.addEventListener('securitypolicyviolation', "
    "  e => pageErrors.push('blocked ' + e.blockedURI));";

/// Charts drawn, as "name:canvases" in page order.
constexpr const char* charts_drawn =
    "Array.from(document.querySelectorAll('[data-chart]')).map(c => c.dataset.chart + ':' + "
    "c.querySelectorAll('.uplot canvas').length).join(',')";

class StatusPage : public ::testing::Test {
protected:
    void SetUp() override {
        chromium_ = find_chromium();
        ASSERT_FALSE(chromium_.empty())
            << "headless Chromium is needed for this test and was not found (set "
               "C10K_CHROMIUM or put chromium on PATH). Install it with: "
            << browser_install_command;
        root_.write("index.html", "<p>hello</p>\n");
    }

    /// `c10k serve` with a push location, a publish listener and the admin listener on
    /// `admin` (0: any free port).
    std::unique_ptr<ServerProcess> start_server(int admin = 0) {
        auto server = std::make_unique<ServerProcess>(std::vector<std::string>{
            "serve", "--engine", "epoll", "--root", root_.path(), "--listen", "127.0.0.1:0",
            "--push", "/live/", "--publish-listen", "127.0.0.1:0", "--admin-listen",
            "127.0.0.1:" + std::to_string(admin)});
        admin_port_ = admin_port(*server);
        publish_port_ = publish_port(*server);
        return server;
    }

    std::string status_url() const {
        return "http://127.0.0.1:" + std::to_string(admin_port_) + "/status";
    }

    /// Saves what the page shows in this test's temporary directory (and, when asked, where
    /// C10K_STATUS_SCREENSHOT says).
    void keep_screenshot(HeadlessBrowser& browser) {
        std::string path = shots_.path() + "/status-page.png";
        browser.screenshot(path);
        EXPECT_GT(std::filesystem::file_size(path), 1000u);
        if (const char* copy = std::getenv("C10K_STATUS_SCREENSHOT"); copy && *copy) {
            std::filesystem::copy_file(path, copy,
                                       std::filesystem::copy_options::overwrite_existing);
        }
    }

    std::string chromium_;
    TempDir root_;
    TempDir shots_;
    int admin_port_ = 0;
    int publish_port_ = 0;
};

TEST_F(StatusPage, DrawsEveryChartShowsTheTotalsAndFollowsNewRequests) {
    auto server = start_server();
    ASSERT_GT(admin_port_, 0) << "no metrics line in the output:\n" << server->output();
    ASSERT_GT(publish_port_, 0) << "no publish line in the output:\n" << server->output();

    for (int i = 0; i < 3; ++i) ASSERT_EQ(fetch(server->port(), "/index.html").status, 200);
    request_missing(server->port(), 4);
    SseClient subscriber(server->port(), "/live/score");
    ASSERT_TRUE(subscriber.read_head());
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(request(publish_port_, "POST", "/pub/score", "goal " + std::to_string(i)).status,
                  200);
    }
    SseEvent event;
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(subscriber.next_event(event));

    HeadlessBrowser browser(chromium_, 1280, 960);
    browser.run_before_each_document(record_errors);
    browser.navigate(status_url());

    // Five charts, each a uPlot with its canvas, once two polls have given it rates to draw.
    ASSERT_TRUE(browser.wait_until(
        std::string(charts_drawn) + " === 'requests:1,connections:1,bytes:1,latency:1,push:1' && "
                                    "Number(document.body.dataset.polls || 0) >= 2",
        page_timeout_ms))
        << describe(browser) << "\nChromium:\n"
        << browser.log();
    EXPECT_EQ(browser.evaluate("String(document.querySelectorAll('.uplot').length)"), "5");

    // The header and the totals table: the engine, and the test's own requests.
    EXPECT_EQ(text_of(browser, "engine"), "epoll");
    EXPECT_EQ(text_of(browser, "connection"), "live");
    EXPECT_EQ(text_of(browser, "total-4xx"), "4") << describe(browser);
    EXPECT_GE(std::stoll(text_of(browser, "total-2xx")), 3 + 2 + 1)  // files, publishes, stream
        << describe(browser);
    EXPECT_EQ(text_of(browser, "push-subscribers"), "1") << describe(browser);
    EXPECT_EQ(text_of(browser, "push-deliveries"), "2") << describe(browser);
    EXPECT_EQ(text_of(browser, "push-channels"), "1") << describe(browser);
    // The total is the sum of the classes shown beside it.
    EXPECT_EQ(browser.evaluate("String(['1xx','2xx','3xx','4xx','5xx'].reduce((sum, k) => sum + "
                               "Number(document.getElementById('total-' + k).textContent), 0) "
                               "=== Number(document.getElementById('total-requests')"
                               ".textContent))"),
              "true")
        << describe(browser);

    // More requests: the page follows them without a reload.
    long long before = std::stoll(text_of(browser, "total-requests"));
    request_missing(server->port(), 3);
    ASSERT_TRUE(browser.wait_until(reads("total-4xx", "7"), update_timeout_ms))
        << describe(browser);
    EXPECT_GE(std::stoll(text_of(browser, "total-requests")), before + 3);
    EXPECT_EQ(browser.evaluate("String(performance.getEntriesByType('navigation').length)"), "1")
        << "the page reloaded";

    // Nothing came from anywhere but the admin listener, and uPlot came from there.
    std::string origin = "http://127.0.0.1:" + std::to_string(admin_port_);
    EXPECT_EQ(browser.evaluate("location.origin"), origin);
    std::string resources =
        browser.evaluate("performance.getEntriesByType('resource').map(e => e.name).join(' ')");
    EXPECT_NE(resources.find(origin + "/assets/uPlot.iife.min.js"), std::string::npos) << resources;
    EXPECT_NE(resources.find(origin + "/assets/uPlot.min.css"), std::string::npos) << resources;
    EXPECT_NE(resources.find(origin + "/status.json"), std::string::npos) << resources;
    EXPECT_EQ(browser.evaluate("performance.getEntriesByType('resource')"
                               ".filter(e => !e.name.startsWith(location.origin + '/'))"
                               ".map(e => e.name).join(' ')"),
              "")
        << resources;
    EXPECT_EQ(browser.evaluate("window.pageErrors.join(' | ')"), "");

    keep_screenshot(browser);
    EXPECT_EQ(server->stop(), 0) << server->output();
}

TEST_F(StatusPage, ShowsTheProxysPoolsAndServers) {
    auto backend = std::make_unique<ServerProcess>(std::vector<std::string>{
        "serve", "--root", root_.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    std::string server = "127.0.0.1:" + std::to_string(backend->port());
    ServerProcess proxy({"proxy", "--listen", "127.0.0.1:0", "--threads", "1", "--backend", server,
                         "--admin-listen", "127.0.0.1:0"});
    admin_port_ = admin_port(proxy);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(fetch(proxy.port(), "/index.html").status, 200);

    HeadlessBrowser browser(chromium_);
    browser.run_before_each_document(record_errors);
    browser.navigate(status_url());
    // One row for the one server: pool, server, its health (no checks here), then its requests.
    std::string first_row =
        "Array.from(document.querySelectorAll('#proxy-servers tr')[0]?.cells"
        " ?? []).map(c => c.textContent).slice(0, 4).join(' ')";
    ASSERT_TRUE(browser.wait_until(first_row + " === 'default " + server + " unchecked 3'",
                                   page_timeout_ms))
        << describe(browser) << "\n"
        << browser.evaluate(first_row);
    EXPECT_EQ(browser.evaluate("String(document.getElementById('proxy').classList.contains("
                               "'hidden'))"),
              "false");
    EXPECT_EQ(browser.evaluate("window.pageErrors.join(' | ')"), "");
}

TEST_F(StatusPage, ShowsTheActiveChecksViewOfEachServerInColour) {
    auto up = std::make_unique<ServerProcess>(std::vector<std::string>{
        "serve", "--root", root_.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    auto gone = std::make_unique<ServerProcess>(std::vector<std::string>{
        "serve", "--root", root_.path(), "--listen", "127.0.0.1:0", "--threads", "1"});
    std::string up_address = "127.0.0.1:" + std::to_string(up->port());
    std::string gone_address = "127.0.0.1:" + std::to_string(gone->port());
    ServerProcess proxy({"proxy", "--listen", "127.0.0.1:0", "--threads", "1", "--backend",
                         up_address, "--backend", gone_address, "--health-check",
                         "http:/index.html", "--health-interval", "100ms", "--health-timeout",
                         "100ms", "--health-fall", "2", "--admin-listen", "127.0.0.1:0"});
    admin_port_ = admin_port(proxy);
    ASSERT_EQ(gone->stop(), 0) << gone->output();

    HeadlessBrowser browser(chromium_);
    browser.run_before_each_document(record_errors);
    browser.navigate(status_url());
    // The column is there, third, after the server's name.
    EXPECT_TRUE(browser.wait_until(
        "Array.from(document.querySelectorAll('#proxy thead th')).map(c => c.textContent)"
        ".indexOf('health') === 2",
        page_timeout_ms))
        << describe(browser);
    // Each server's cell: its state as text, and as the class that colours it.
    std::string cells =
        "Array.from(document.querySelectorAll('#proxy-servers tr')).map(r => r.cells[1]"
        ".textContent + ' ' + r.cells[2].textContent + ' ' + r.cells[2].className).join(', ')";
    std::string expected = up_address + " up up, " + gone_address + " down down";
    ASSERT_TRUE(browser.wait_until(cells + " === " + json_string(expected), update_timeout_ms))
        << describe(browser) << "\n"
        << browser.evaluate(cells) << "\n"
        << proxy.output();
    // Green and red, not the text colour of the rest of the row.
    std::string colour =
        "getComputedStyle(document.querySelectorAll('#proxy-servers tr')[{}]"
        ".cells[2]).color";
    EXPECT_EQ(browser.evaluate(std::string(colour).replace(colour.find("{}"), 2, "0")),
              "rgb(23, 98, 43)");
    EXPECT_EQ(browser.evaluate(std::string(colour).replace(colour.find("{}"), 2, "1")),
              "rgb(156, 36, 24)");
    // Failed checks of the stopped server: "N of M", N at least `fall`.
    std::string failed =
        browser.evaluate("document.querySelectorAll('#proxy-servers tr')[1].cells[13].textContent");
    EXPECT_TRUE(std::regex_match(failed, std::regex("([2-9]|[1-9][0-9]+) of [0-9]+"))) << failed;
    EXPECT_EQ(browser.evaluate("window.pageErrors.join(' | ')"), "");
}

TEST_F(StatusPage, StartsItsSeriesAgainWhenTheServerRestarts) {
    int admin = unused_port();
    ASSERT_GT(admin, 0);
    auto server = start_server(admin);
    ASSERT_EQ(admin_port_, admin) << server->output();
    request_missing(server->port(), 5);

    HeadlessBrowser browser(chromium_);
    browser.run_before_each_document(record_errors);
    browser.navigate(status_url());
    ASSERT_TRUE(browser.wait_until(reads("total-4xx", "5") + " && " + reads("connection", "live"),
                                   page_timeout_ms))
        << describe(browser);

    // Gone: the page says so and keeps trying.
    ASSERT_EQ(server->stop(), 0) << server->output();
    ASSERT_TRUE(browser.wait_until(
        "document.getElementById('connection').textContent.startsWith('server unreachable')",
        update_timeout_ms))
        << describe(browser);

    // Back on the same admin port with every count at zero: the page notices the restart and
    // shows the new server's totals, not the old ones or a difference between the two.
    server = start_server(admin);
    ASSERT_EQ(admin_port_, admin) << server->output();
    request_missing(server->port(), 2);
    ASSERT_TRUE(browser.wait_until(reads("total-4xx", "2") + " && " + reads("connection", "live"),
                                   update_timeout_ms))
        << describe(browser);
    EXPECT_NE(text_of(browser, "notice").find("restarted"), std::string::npos) << describe(browser);
    // No rate below zero was drawn: every rate kept is a number >= 0 or a gap.
    EXPECT_EQ(browser.evaluate("String(['requests', 'bytes', 'push'].every(name => "
                               "c10kStatus.charts[name].data.slice(1).flat()"
                               ".every(v => v == null || v >= 0)))"),
              "true")
        << describe(browser);
    EXPECT_EQ(browser.evaluate("String(document.querySelectorAll('.uplot').length)"), "5");
    EXPECT_EQ(browser.evaluate("window.pageErrors.join(' | ')"), "");
    EXPECT_EQ(server->stop(), 0) << server->output();
}

}  // namespace
}  // namespace c10k::test
