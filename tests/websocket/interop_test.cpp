// Interoperability with WebSocket clients this project did not write: Python's websockets
// (Debian python3-websockets) and Node's ws (Debian node-ws), run as child processes against
// --ws-echo. Each script sends text and binary messages, with and without permessage-deflate, a
// 1 MiB message, closes with 1000, and prints OK when every echo matched.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "websocket/ws_suite.hpp"

namespace c10k::test {
namespace {

using Clock = std::chrono::steady_clock;

const char* const kPythonScript = R"PY(
import asyncio, os, sys
import websockets

async def main(url, mode):
    deflate = mode == "deflate"
    async with websockets.connect(url, compression="deflate" if deflate else None,
                                  max_size=None) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions") or ""
        if deflate != ("permessage-deflate" in ext):
            sys.exit("unexpected extensions answer: %r" % ext)
        messages = ["hello from python", "\u00fcn\u00efc\u00f6d\u00e9 \U0001f600", "",
                    "x" * 5000, bytes(range(256)) * 4, b"", os.urandom(1 << 20),
                    "json " * 200000]
        for message in messages:
            await ws.send(message)
            echo = await ws.recv()
            if type(echo) != type(message) or echo != message:
                sys.exit("echo differs for a %s of %d" % (type(message).__name__, len(message)))
        await ws.close(code=1000, reason="done")
        if ws.close_code != 1000:
            sys.exit("closed with %r" % ws.close_code)
    print("OK")

asyncio.run(main(sys.argv[1], sys.argv[2]))
)PY";

const char* const kNodeScript = R"JS(
const WebSocket = require('ws');
const crypto = require('crypto');
const [url, mode] = process.argv.slice(2);
const deflate = mode === 'deflate';
const fail = (why) => { console.error(why); process.exit(1); };
const ws = new WebSocket(url, { perMessageDeflate: deflate ? { threshold: 0 } : false,
                                maxPayload: 0 });
const messages = [
  ['hello from node', false], ['\u00fcn\u00efc\u00f6d\u00e9 \u{1f600}', false], ['', false],
  ['y'.repeat(5000), false], [Buffer.from([...Array(256).keys()]), true],
  [Buffer.alloc(0), true], [crypto.randomBytes(1 << 20), true], ['json '.repeat(200000), false],
];
let index = 0;
ws.on('open', () => {
  if (deflate !== ws.extensions.includes('permessage-deflate')) {
    fail('unexpected extensions answer: ' + ws.extensions);
  }
  ws.send(messages[0][0], { binary: messages[0][1] });
});
ws.on('message', (data, isBinary) => {
  const [sent, binary] = messages[index];
  if (isBinary !== binary) fail('message ' + index + ' came back as the other type');
  const expected = binary ? sent : Buffer.from(sent, 'utf8');
  if (!Buffer.from(data).equals(expected)) fail('echo differs for message ' + index);
  index += 1;
  if (index < messages.length) {
    ws.send(messages[index][0], { binary: messages[index][1] });
  } else {
    ws.close(1000, 'done');
  }
});
ws.on('close', (code) => {
  if (index !== messages.length) fail('closed early with ' + code);
  if (code !== 1000) fail('closed with ' + code);
  console.log('OK');
  process.exit(0);
});
ws.on('error', (error) => fail('error: ' + error.message));
setTimeout(() => fail('timed out'), 60000);
)JS";

struct ChildResult {
    int status = -1;
    std::string output;
};

/// Runs a program to completion (killed after 90 s), with extra environment entries.
ChildResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    ChildResult result;
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::dup2(pipe_fds[1], STDERR_FILENO);
        for (const auto& entry : env) ::putenv(const_cast<char*>(entry.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    auto deadline = Clock::now() + std::chrono::seconds(90);
    char buffer[4096];
    for (;;) {
        pollfd p{pipe_fds[0], POLLIN, 0};
        ::poll(&p, 1, 100);
        ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (n > 0) {
            result.output.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) break;  // the child closed its output: it has ended
        if (Clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            result.output += "\n(killed after 90 s)";
            break;
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(pipe_fds[0]);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

class Interop : public WsTest {
protected:
    /// Runs `script` with `interpreter` against the echo location in both modes.
    void run_both_modes(const std::vector<std::string>& interpreter, const char* script,
                        const std::string& file_name, const std::vector<std::string>& env) {
        TempDir dir;
        std::string path = dir.write(file_name, script);
        std::string url = "ws://127.0.0.1:" + std::to_string(port()) + "/echo";
        for (const std::string mode : {"plain", "deflate"}) {
            SCOPED_TRACE(mode);
            std::vector<std::string> argv = interpreter;
            argv.insert(argv.end(), {path, url, mode});
            ChildResult result = run_child(argv, env);
            EXPECT_EQ(result.status, 0) << result.output;
            EXPECT_NE(result.output.find("OK"), std::string::npos) << result.output;
        }
    }
};

TEST_P(Interop, PythonWebsocketsClient) {
    // The system Python: it is the one with python3-websockets (a pyenv one may lack it).
    ChildResult probe = run_child({"/usr/bin/python3", "-c", "import websockets"}, {});
    // Installed by `make test` (scripts/install-deps.sh --test): missing is a failure, not a skip.
    ASSERT_EQ(probe.status, 0) << "python3-websockets is needed (apt-get install "
                                  "python3-websockets): "
                               << probe.output;
    run_both_modes({"/usr/bin/python3"}, kPythonScript, "client.py", {});
}

TEST_P(Interop, NodeWsClient) {
    const std::vector<std::string> env = {"NODE_PATH=/usr/share/nodejs"};
    ChildResult probe = run_child({"/usr/bin/node", "-e", "require('ws')"}, env);
    ASSERT_EQ(probe.status, 0) << "node-ws is needed (apt-get install node-ws): " << probe.output;
    run_both_modes({"/usr/bin/node"}, kNodeScript, "client.js", env);
}

INSTANTIATE_TEST_SUITE_P(Engines, Interop, ::testing::Values("epoll", "uring"), ws_engine_name);

}  // namespace
}  // namespace c10k::test
