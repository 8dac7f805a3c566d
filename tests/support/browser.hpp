#pragma once
// Headless Chromium for end-to-end tests of the pages c10k serves: it loads a page over real
// HTTP, runs its scripts, and lets a test read the rendered DOM and keep a screenshot.
//
// Chromium is driven through the DevTools protocol over a pipe (--remote-debugging-pipe: JSON
// messages ended by a NUL on descriptors 3 and 4), not with --dump-dom: a page that holds an
// EventSource open never finishes loading, so --dump-dom and --virtual-time-budget wait for
// ever, and they cannot act while the page is open (a test must publish after the page has
// subscribed). The pipe needs no port and no other client can reach it.

#include <sys/types.h>

#include <string>

#include "support/json_value.hpp"
#include "support/server_process.hpp"

namespace c10k::test {

/// The command that installs what the browser tests need, named by their failure messages.
inline constexpr const char* browser_install_command =
    "sudo scripts/install-deps.sh --test  (Debian packages chromium, fonts-dejavu-core)";

/// The Chromium binary to use: $C10K_CHROMIUM when set, else the first of chromium,
/// chromium-browser, google-chrome found on PATH; "" when there is none.
std::string find_chromium();

/// One headless Chromium with one page. Every wait is bounded; the destructor closes the
/// browser, and kills its process group (Chromium and the helpers it started) if it does not
/// exit in time.
class HeadlessBrowser {
public:
    /// Starts `chromium` with a fresh profile in a temporary directory and a viewport of
    /// width x height, and attaches to its first page. Throws std::runtime_error, with
    /// Chromium's own output, if its page does not answer within 60 s.
    HeadlessBrowser(const std::string& chromium, int width = 1024, int height = 720);
    ~HeadlessBrowser();
    HeadlessBrowser(const HeadlessBrowser&) = delete;
    HeadlessBrowser& operator=(const HeadlessBrowser&) = delete;

    /// Runs `script` in every document this page loads from now on, before the document's own
    /// scripts: to take away or replace a browser feature that a test wants missing.
    void run_before_each_document(const std::string& script);

    /// Loads `url` and waits (up to timeout_ms) for its load event. Throws on a network error
    /// or a timeout.
    void navigate(const std::string& url, int timeout_ms = 45000);

    /// Evaluates a JavaScript expression in the page and returns its value as text: a string
    /// as is, true/false, a number, or "null"/"undefined". Throws if it throws.
    std::string evaluate(const std::string& expression, int timeout_ms = 15000);

    /// Evaluates `condition` every 50 ms until it is true; false if timeout_ms passes first.
    bool wait_until(const std::string& condition, int timeout_ms);

    /// Writes a PNG of what the page shows now to `path`.
    void screenshot(const std::string& path);

    /// What Chromium wrote to its stdout and stderr so far, for failure messages.
    std::string log() const;
    pid_t pid() const { return pid_; }

private:
    /// Sends one DevTools command (to the page's session when `to_page`) and waits for its
    /// reply, skipping the events that arrive meanwhile. Returns the reply's "result".
    JsonValue call(const std::string& method, const std::string& params, bool to_page,
                   int timeout_ms);
    /// Reads the next NUL-terminated message; false on timeout or end of pipe.
    bool read_message(std::string& out, int timeout_ms);
    void stop();

    TempDir profile_;
    pid_t pid_ = -1;
    int to_browser_ = -1;
    int from_browser_ = -1;
    std::string pending_;
    std::string session_id_;
    int next_id_ = 1;
};

}  // namespace c10k::test
