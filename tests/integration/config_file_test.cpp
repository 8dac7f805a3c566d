// `c10k serve --config FILE` and `-t` with the real binary: the example config is valid, bad
// files are refused naming the file, the line and the key, a server takes its root and port
// from the file, a flag overrides the file, and docs/OPERATIONS.md holds the current reference.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/connect.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace c10k::test {
namespace {

/// Runs in the repository's root while it lives, as `make run` does: the example's root is
/// relative to the working directory.
class InSourceDir {
public:
    InSourceDir() {
        char buffer[4096];
        if (::getcwd(buffer, sizeof buffer) != nullptr) previous_ = buffer;
        EXPECT_EQ(::chdir(C10K_SOURCE_DIR), 0);
    }
    ~InSourceDir() {
        if (!previous_.empty()) {
            EXPECT_EQ(::chdir(previous_.c_str()), 0);
        }
    }

private:
    std::string previous_;
};

std::string read_file(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

/// A loopback socket bound to a port the kernel picked; listening when asked, so that nothing
/// else can bind that port while it lives.
class PortHolder {
public:
    explicit PortHolder(bool listen) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        if (listen) {
            EXPECT_EQ(::listen(fd_, 16), 0);
        }
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~PortHolder() { release(); }
    void release() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

/// A port nobody listens on just now (the kernel's pick, then released).
int free_port() {
    PortHolder holder(false);
    return holder.port();
}

/// True when a TCP connection to 127.0.0.1:port is refused (nothing listens there).
bool connection_refused(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int result = connect_through_signals(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    bool refused = result != 0 && errno == ECONNREFUSED;
    ::close(fd);
    return refused;
}

std::string loopback(int port) {
    return "127.0.0.1:" + std::to_string(port);
}

TEST(ConfigFile, CheckAcceptsTheExampleConfig) {
    InSourceDir in_source;
    CommandResult r = run_command({"serve", "-t", "--config", "examples/c10k.toml"});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("c10k: configuration examples/c10k.toml is valid"), std::string::npos)
        << r.output;
}

TEST(ConfigFile, CheckWithoutAFileChecksTheFlags) {
    CommandResult good = run_command({"serve", "--check-config", "--listen", "127.0.0.1:0"});
    EXPECT_EQ(good.status, 0) << good.output;
    EXPECT_NE(good.output.find("c10k: flags are valid"), std::string::npos) << good.output;
    CommandResult bad = run_command({"serve", "-t", "--engine", "bogus"});
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find("unknown engine 'bogus'"), std::string::npos) << bad.output;
    EXPECT_EQ(bad.output.find("valid"), std::string::npos) << bad.output;
}

TEST(ConfigFile, CheckRefusesBadFilesNamingTheFileTheLineAndTheKey) {
    TempDir dir;
    struct Case {
        std::string contents;
        std::string expected;  ///< after "FILE:"
    };
    for (const Case& c : std::vector<Case>{
             {"[server]\nlissten = [\"127.0.0.1:0\"]\n",
              "2: [server] lissten: unknown key; did you mean 'listen'?"},
             {"[server]\nlisten = [\"127.0.0.1:0\"]\nthreads = \"two\"\n",
              "3: [server] threads: expected an integer, got a string"},
             {"[server]\nheader_timeout = \"ten\"\n", "2: [server] header_timeout: 'ten' is not"},
             {"[server]\nlisten = [\"127.0.0.1:0\"\n", "2:"},
             {"[locations]\n", "1: [locations]: unknown table"},
             {"listen = [\"127.0.0.1:0\"]\n", "1: listen: a key outside any table"},
             {"[server]\nmax_connections = -5\n", "2: [server] max_connections: -5 is negative"},
             {"[server]\nthread_stack = 99999999999\n", "2: [server] thread_stack: cannot take"},
             // Checks made after loading still name the line the value came from.
             {"[server]\nlisten = [\"127.0.0.1:0\"]\nengine = \"bogus\"\n",
              "3: [server] engine: --engine: unknown engine 'bogus'"},
             {"[server]\nlisten = [\"127.0.0.1:0\"]\nroot = \"" + dir.path() + "/missing\"\n",
              "3: [server] root: --root: static root"},
             {"[server]\nlisten = [\"nonsense\"]\n", "2: [server] listen: --listen:"},
         }) {
        std::string path = dir.write("bad.toml", c.contents);
        CommandResult r = run_command({"serve", "-t", "--config", path});
        EXPECT_EQ(r.status, 1) << c.contents << r.output;
        EXPECT_NE(r.output.find("c10k serve: " + path + ":" + c.expected), std::string::npos)
            << c.contents << "\n"
            << r.output;
        EXPECT_EQ(r.output.find("is valid"), std::string::npos) << r.output;
    }
}

TEST(ConfigFile, CheckReportsEveryErrorOfAFile) {
    TempDir dir;
    std::string path =
        dir.write("bad.toml", "[server]\nthreads = \"x\"\nbogus = 1\n[push]\nfirst = 5\n");
    CommandResult r = run_command({"serve", "-t", "--config", path});
    EXPECT_EQ(r.status, 1);
    for (const std::string& expected : {path + ":2: [server] threads:",
                                        path + ":3: [server] bogus:", path + ":5: [push] first:"}) {
        EXPECT_NE(r.output.find("c10k serve: " + expected), std::string::npos) << r.output;
    }
}

TEST(ConfigFile, AMissingFileIsNamed) {
    TempDir dir;
    CommandResult r = run_command({"serve", "-t", "--config", dir.path() + "/none.toml"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find(dir.path() + "/none.toml: cannot read the configuration file: No such "
                                         "file or directory"),
              std::string::npos)
        << r.output;
}

TEST(ConfigFile, CheckBindsNoPort) {
    // The port is taken: serving would fail to bind it, checking must not try.
    PortHolder taken(true);
    TempDir dir;
    std::string path =
        dir.write("c10k.toml", "[server]\nlisten = [\"" + loopback(taken.port()) + "\"]\n");
    CommandResult r = run_command({"serve", "-t", "--config", path});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("is valid"), std::string::npos) << r.output;
}

TEST(ConfigFile, ServesTheRootAndPortTheFileNames) {
    TempDir dir;
    dir.write("site/hello.txt", "hello from the config");
    int port = free_port();
    std::string path =
        dir.write("c10k.toml", "[server]\nroot = \"" + dir.path() + "/site\"\nlisten = [\"" +
                                   loopback(port) + "\"]\nthreads = 1\n");
    ServerProcess server({"serve", "--config", path});
    EXPECT_EQ(server.port(), port);
    HttpResponse r = fetch(port, "/hello.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello from the config");
    EXPECT_EQ(server.stop(), 0);
}

TEST(ConfigFile, AFlagOnTheCommandLineOverridesTheFile) {
    TempDir dir;
    dir.write("site/hello.txt", "hi");
    int file_port = free_port();
    int flag_port = free_port();
    ASSERT_NE(file_port, flag_port);
    std::string path =
        dir.write("c10k.toml", "[server]\nroot = \"" + dir.path() + "/site\"\nlisten = [\"" +
                                   loopback(file_port) + "\"]\nthreads = 1\n");
    ServerProcess server({"serve", "--config", path, "--listen", loopback(flag_port)});
    EXPECT_EQ(server.port(), flag_port);
    EXPECT_EQ(fetch(flag_port, "/hello.txt").body, "hi");  // the root still comes from the file
    EXPECT_TRUE(connection_refused(file_port));
    EXPECT_EQ(server.stop(), 0);
}

TEST(ConfigFile, AnUnknownKeyIsRefusedAtStart) {
    TempDir dir;
    std::string path =
        dir.write("c10k.toml", "[server]\nlisten = [\"127.0.0.1:0\"]\nmax_conections = 10\n");
    CommandResult r = run_command({"serve", "--config", path});
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("c10k serve: " + path +
                            ":3: [server] max_conections: unknown key; did you mean "
                            "'max_connections'?"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("serving"), std::string::npos) << r.output;
}

/// A command's config reference, the doc that holds a copy of it, and the example file that
/// shows every key.
struct ReferenceCase {
    const char* command;
    const char* doc;
    const char* example;
};

class ConfigReference : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(ConfigReference, TheDocHoldsTheCurrentReference) {
    const ReferenceCase& c = GetParam();
    CommandResult r = run_command({c.command, "--config-reference"});
    ASSERT_EQ(r.status, 0) << r.output;
    std::string doc = read_file(std::string(C10K_SOURCE_DIR) + "/" + c.doc);
    // The section runs from its heading to the next "## " heading (or the end of the file);
    // the reference itself has only "### " headings.
    const std::string heading = "\n## Configuration reference\n\n";
    std::size_t at = doc.find(heading);
    ASSERT_NE(at, std::string::npos) << c.doc << " has no '## Configuration reference'";
    std::size_t start = at + heading.size();
    std::size_t next = doc.find("\n## ", start);
    std::string section = doc.substr(start, next == std::string::npos ? next : next + 1 - start);
    if (next != std::string::npos && section.size() >= 2) section.pop_back();  // the blank line
    EXPECT_EQ(section, r.output)
        << c.doc << " is out of date: replace the body of its '## Configuration reference' "
        << "section (up to the next '## ' heading) with the output of `build/c10k " << c.command
        << " --config-reference`";
}

TEST_P(ConfigReference, TheExampleShowsEveryKeyAndIsValid) {
    // Every key of the reference appears in the example under its table, set or commented out.
    const ReferenceCase& c = GetParam();
    CommandResult r = run_command({c.command, "--config-reference"});
    ASSERT_EQ(r.status, 0) << r.output;
    std::string example_path = std::string(C10K_SOURCE_DIR) + "/" + c.example;
    std::string example = read_file(example_path);
    std::istringstream reference(r.output);
    std::string line;
    std::string table;
    int keys = 0;
    while (std::getline(reference, line)) {
        if (line.rfind("### [", 0) == 0) {
            table = line.substr(4);
            continue;
        }
        if (line.rfind("| `", 0) != 0) continue;
        std::string key = line.substr(3, line.find('`', 3) - 3);
        std::size_t section = example.find("\n" + table + "\n");
        ASSERT_NE(section, std::string::npos) << table << " is not in " << c.example;
        std::size_t next = example.find("\n[", section + 1);
        std::string body =
            example.substr(section, next == std::string::npos ? next : next - section);
        bool found = body.find("\n" + key + " = ") != std::string::npos ||
                     body.find("\n# " + key + " = ") != std::string::npos;
        EXPECT_TRUE(found) << table << " " << key << " is not in " << c.example;
        ++keys;
    }
    EXPECT_GT(keys, 40);
    std::vector<std::string> args{c.command, "-t", "--config", example_path};
    if (std::string(c.command) == "serve") {
        // Its root is relative to the repository, where `make run` starts it.
        args.insert(args.end(), {"--root", std::string(C10K_SOURCE_DIR) + "/examples/site"});
    }
    CommandResult check = run_command(args);
    EXPECT_EQ(check.status, 0) << check.output;
}

INSTANTIATE_TEST_SUITE_P(
    Commands, ConfigReference,
    ::testing::Values(ReferenceCase{"serve", "docs/OPERATIONS.md", "examples/c10k.toml"},
                      ReferenceCase{"proxy", "docs/PROXY.md", "examples/proxy.toml"}),
    [](const auto& info) { return std::string(info.param.command); });

}  // namespace
}  // namespace c10k::test
