#include "support/browser.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace c10k::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int start_timeout_ms = 60000;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool executable(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
}

std::string decode_base64(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 3 / 4);
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int value;
        if (c >= 'A' && c <= 'Z') {
            value = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            value = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            value = c - '0' + 52;
        } else if (c == '+') {
            value = 62;
        } else if (c == '/') {
            value = 63;
        } else {
            continue;  // padding
        }
        buffer = (buffer << 6) | static_cast<unsigned>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return out;
}

// Writes all of `bytes` to a pipe. SIGPIPE is blocked meanwhile (and a pending one taken
// back), so that a browser that died makes this fail with EPIPE instead of killing the test.
bool write_all(int fd, std::string_view bytes) {
    sigset_t pipe_signal;
    sigset_t previous;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
    bool ok = true;
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (errno == EPIPE) {
                timespec no_wait{};
                ::sigtimedwait(&pipe_signal, nullptr, &no_wait);
            }
            ok = false;
            break;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return ok;
}

}  // namespace

std::string find_chromium() {
    if (const char* configured = std::getenv("C10K_CHROMIUM"); configured && *configured) {
        return executable(configured) ? configured : "";
    }
    const char* path = std::getenv("PATH");
    std::string directories = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
        std::stringstream stream(directories);
        std::string directory;
        while (std::getline(stream, directory, ':')) {
            std::string candidate = (directory.empty() ? "." : directory) + "/" + name;
            if (executable(candidate)) return candidate;
        }
    }
    return "";
}

HeadlessBrowser::HeadlessBrowser(const std::string& chromium, int width, int height) {
    int commands[2];
    int replies[2];
    if (::pipe2(commands, O_CLOEXEC) != 0 || ::pipe2(replies, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    std::string log_path = profile_.path() + "/chromium.log";
    std::vector<std::string> args = {
        chromium,
        "--headless=new",
        // Tests often run as root in containers, where the sandbox cannot start.
        "--no-sandbox",
        "--disable-gpu",
        // Containers give /dev/shm a few megabytes; Chromium then crashes its renderers.
        "--disable-dev-shm-usage",
        "--remote-debugging-pipe",
        "--user-data-dir=" + profile_.path() + "/profile",
        "--window-size=" + std::to_string(width) + "," + std::to_string(height),
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-sync",
        "--disable-component-update",
        "--disable-background-networking",
        "--mute-audio",
        "about:blank",
    };

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // Its own process group, so that the helpers Chromium starts can be ended with it.
        ::setpgid(0, 0);
        int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        // Chromium reads commands on descriptor 3 and writes replies on 4. Lift the pipe ends
        // above both first, so that placing one cannot overwrite the other; dup2 clears
        // close-on-exec on the copies.
        int read_end = ::fcntl(commands[0], F_DUPFD_CLOEXEC, 10);
        int write_end = ::fcntl(replies[1], F_DUPFD_CLOEXEC, 10);
        ::dup2(null_fd, STDIN_FILENO);
        if (log_fd >= 0) {
            ::dup2(log_fd, STDOUT_FILENO);
            ::dup2(log_fd, STDERR_FILENO);
        }
        ::dup2(read_end, 3);
        ::dup2(write_end, 4);
        std::vector<char*> argv;
        for (std::string& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        ::execv(args[0].c_str(), argv.data());
        ::_exit(127);
    }
    ::close(commands[0]);
    ::close(replies[1]);
    to_browser_ = commands[1];
    from_browser_ = replies[0];

    // One deadline for the whole start: on two cores shared with parallel tests, a cold
    // Chromium can take many seconds before its first page answers.
    auto deadline = Clock::now() + std::chrono::milliseconds(start_timeout_ms);
    try {
        // The first page Chromium opened (about:blank): attach to it with a flat session, so
        // that page commands travel on the same pipe tagged with the session id.
        JsonValue targets = call("Target.getTargets", "{}", false, remaining_ms(deadline));
        std::string target_id;
        for (const JsonValue& target : targets["targetInfos"].array) {
            if (target["type"].string == "page") {
                target_id = target["targetId"].string;
                break;
            }
        }
        if (target_id.empty()) {
            target_id = call("Target.createTarget", R"({"url":"about:blank"})", false,
                             remaining_ms(deadline))["targetId"]
                            .string;
        }
        session_id_ = call("Target.attachToTarget",
                           R"({"targetId":)" + json_string(target_id) + R"(,"flatten":true})",
                           false, remaining_ms(deadline))["sessionId"]
                          .string;
        if (session_id_.empty()) throw std::runtime_error("no DevTools session for the page");
        call("Page.enable", "{}", true, remaining_ms(deadline));
    } catch (const std::exception& error) {
        std::string output = log();
        stop();
        throw std::runtime_error(std::string("headless Chromium did not start: ") + error.what() +
                                 "\nits output:\n" + output);
    }
}

HeadlessBrowser::~HeadlessBrowser() {
    stop();
}

void HeadlessBrowser::stop() {
    if (pid_ > 0) {
        // Ask first: a clean exit removes its own helpers. Then make sure, by process group.
        try {
            call("Browser.close", "{}", false, 2000);
        } catch (const std::exception&) {
            // It may already be gone or wedged; the kill below handles both.
        }
        auto deadline = Clock::now() + std::chrono::seconds(5);
        bool exited = false;
        while (Clock::now() < deadline) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                exited = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(-pid_, SIGKILL);
        if (!exited) ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    if (to_browser_ >= 0) ::close(to_browser_);
    if (from_browser_ >= 0) ::close(from_browser_);
    to_browser_ = from_browser_ = -1;
}

bool HeadlessBrowser::read_message(std::string& out, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        std::size_t end = pending_.find('\0');
        if (end != std::string::npos) {
            out = pending_.substr(0, end);
            pending_.erase(0, end + 1);
            return true;
        }
        pollfd p{from_browser_, POLLIN, 0};
        int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        char buffer[65536];
        ssize_t n = ::read(from_browser_, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        pending_.append(buffer, static_cast<std::size_t>(n));
    }
}

JsonValue HeadlessBrowser::call(const std::string& method, const std::string& params, bool to_page,
                                int timeout_ms) {
    if (to_browser_ < 0) throw std::runtime_error("the browser is closed");
    int id = next_id_++;
    std::string message = R"({"id":)" + std::to_string(id) + R"(,"method":)" + json_string(method) +
                          R"(,"params":)" + params;
    if (to_page) message += R"(,"sessionId":)" + json_string(session_id_);
    message += "}";
    message.push_back('\0');
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    if (!write_all(to_browser_, message)) {
        throw std::runtime_error("cannot send " + method + " to Chromium (it exited?)");
    }
    for (;;) {
        std::string text;
        if (!read_message(text, remaining_ms(deadline))) {
            throw std::runtime_error("no answer from Chromium to " + method + " within " +
                                     std::to_string(timeout_ms) + " ms");
        }
        std::optional<JsonValue> reply = parse_json(text);
        if (!reply || reply->find("id") == nullptr || (*reply)["id"].integer() != id) {
            continue;  // an event, or the reply to a call that timed out earlier
        }
        if (const JsonValue* error = reply->find("error")) {
            throw std::runtime_error(method + " failed: " + (*error)["message"].string);
        }
        return (*reply)["result"];
    }
}

void HeadlessBrowser::run_before_each_document(const std::string& script) {
    call("Page.addScriptToEvaluateOnNewDocument", R"({"source":)" + json_string(script) + "}", true,
         10000);
}

void HeadlessBrowser::navigate(const std::string& url, int timeout_ms) {
    JsonValue result =
        call("Page.navigate", R"({"url":)" + json_string(url) + "}", true, timeout_ms);
    if (!result["errorText"].string.empty()) {
        throw std::runtime_error("cannot load " + url + ": " + result["errorText"].string);
    }
    // Page.navigate answers once the new document is committed; wait for its load event.
    if (!wait_until("document.readyState === 'complete' && location.href !== 'about:blank'",
                    timeout_ms)) {
        throw std::runtime_error(url + " did not finish loading within " +
                                 std::to_string(timeout_ms) + " ms");
    }
}

std::string HeadlessBrowser::evaluate(const std::string& expression, int timeout_ms) {
    JsonValue result =
        call("Runtime.evaluate",
             R"({"expression":)" + json_string(expression) + R"(,"returnByValue":true})", true,
             timeout_ms);
    if (const JsonValue* exception = result.find("exceptionDetails")) {
        std::string description = (*exception)["exception"]["description"].string;
        throw std::runtime_error("the page threw on `" + expression + "`: " +
                                 (description.empty() ? (*exception)["text"].string : description));
    }
    const JsonValue& value = result["result"];
    const std::string& type = value["type"].string;
    if (type == "string") return value["value"].string;
    if (type == "boolean") return value["value"].boolean ? "true" : "false";
    if (type == "number") {
        std::ostringstream out;
        out << value["value"].number;
        return out.str();
    }
    if (type == "undefined") return "undefined";
    return "null";
}

bool HeadlessBrowser::wait_until(const std::string& condition, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string expression = "Boolean(" + condition + ")";
    for (;;) {
        try {
            if (evaluate(expression, std::max(remaining_ms(deadline), 1000)) == "true") {
                return true;
            }
        } catch (const std::runtime_error&) {
            // Between documents (a navigation, a reload) there is briefly no page to ask.
        }
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void HeadlessBrowser::screenshot(const std::string& path) {
    JsonValue result = call("Page.captureScreenshot", R"({"format":"png"})", true, 15000);
    std::string png = decode_base64(result["data"].string);
    if (png.empty()) throw std::runtime_error("Chromium returned an empty screenshot");
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(png.data(), static_cast<std::streamsize>(png.size()));
    if (!file) throw std::runtime_error("cannot write " + path);
}

std::string HeadlessBrowser::log() const {
    std::ifstream file(profile_.path() + "/chromium.log");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace c10k::test
