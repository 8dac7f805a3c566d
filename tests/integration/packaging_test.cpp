// What `make deb` and `make install` deliver, checked from the build under test: the systemd
// units pass `systemd-analyze verify` without a warning, the default config passes `c10k serve
// -t`, and the Debian package (CPack, into a temporary folder) holds the binary, the units, the
// config as a conffile and the man page, installs into a temporary root with dpkg (nothing is
// installed on this machine), runs from there, and leaves its conffile on removal and nothing on
// purge.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace c10k::test {
namespace {

namespace fs = std::filesystem;

const std::string kSource = C10K_SOURCE_DIR;

/// The build folder under test: the binary lands at its top (apps/c10k/CMakeLists.txt), beside
/// CPackConfig.cmake and the man page.
std::string build_dir() {
    return fs::path(binary_path()).parent_path().string();
}

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

/// Runs a shell command, stdout and stderr together, bounded by `timeout` so that a hung tool
/// fails the test instead of holding the suite.
CommandResult shell(const std::string& command, int timeout_s = 120) {
    CommandResult result;
    std::string line =
        "timeout " + std::to_string(timeout_s) + " sh -c " + quoted(command) + " 2>&1";
    FILE* pipe = ::popen(line.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
        result.output.append(buffer, n);
    }
    int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

bool have(const std::string& tool) {
    return shell("command -v " + tool + " >/dev/null").status == 0;
}

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

void write_file(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
        text.replace(at, from.size(), to);
    }
    return text;
}

/// The lines of `output` that name `needle`.
std::string lines_naming(const std::string& output, const std::string& needle) {
    std::istringstream lines(output);
    std::string found;
    for (std::string line; std::getline(lines, line);) {
        if (line.find(needle) != std::string::npos) found += line + "\n";
    }
    return found;
}

/// `systemd-analyze verify` of the packaged units, with ExecStart pointed at the built binary
/// (verify refuses a command that does not exist) and the built man page on MANPATH (verify
/// checks Documentation=man:c10k(1)). verify exits 0 even when it warns about a unit, so its
/// output is what tells: every line it prints about these units is returned.
std::string verify_units(const TempDir& dir, const std::string& service_text) {
    write_file(dir.path() + "/units/c10k.service",
               replaced(service_text, "/usr/bin/c10k", binary_path()));
    write_file(dir.path() + "/units/c10k.socket", read_file(kSource + "/packaging/c10k.socket"));
    write_file(dir.path() + "/man/man1/c10k.1", read_file(build_dir() + "/c10k.1"));
    CommandResult r =
        shell("cd " + quoted(dir.path() + "/units") + " && MANPATH=" + quoted(dir.path() + "/man") +
              " systemd-analyze verify ./c10k.service ./c10k.socket");
    std::string about_units = lines_naming(r.output, "c10k");
    if (r.status != 0) about_units += "(exit status " + std::to_string(r.status) + ")\n";
    return about_units;
}

TEST(Packaging, UnitFilesPassSystemdAnalyzeVerifyWithoutWarnings) {
    ASSERT_TRUE(have("systemd-analyze"))
        << "systemd-analyze is missing: scripts/install-deps.sh --test installs systemd";
    ASSERT_TRUE(fs::exists(build_dir() + "/c10k.1"))
        << "no man page in the build: build the 'man' target (help2man)";
    const std::string service = read_file(kSource + "/packaging/c10k.service");
    ASSERT_NE(service.find("Type=notify"), std::string::npos);

    TempDir dir;
    EXPECT_EQ(verify_units(dir, service), "");

    // The check above can fail: a misspelt value is reported, though verify still exits 0.
    TempDir broken;
    std::string typo = replaced(service, "Type=notify", "Type=notfy");
    EXPECT_NE(verify_units(broken, typo).find("notfy"), std::string::npos);
}

TEST(Packaging, DefaultConfigPassesTheCheck) {
    // The root is the demo site's install path, absent here: --root points at the source's copy,
    // every other key is the file's.
    CommandResult r = run_command({"serve", "-t", "--config", kSource + "/packaging/c10k.toml",
                                   "--root", kSource + "/examples/site"});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("is valid"), std::string::npos) << r.output;
}

/// Builds the package with the build's own CPack configuration into `out`; its path.
std::string build_package(const std::string& out) {
    CommandResult r = shell("cpack --config " + quoted(build_dir() + "/CPackConfig.cmake") +
                            " -B " + quoted(out));
    EXPECT_EQ(r.status, 0) << r.output;
    for (const auto& entry : fs::directory_iterator(out)) {
        if (entry.path().extension() == ".deb") return entry.path().string();
    }
    ADD_FAILURE() << "no .deb in " << out << ":\n" << r.output;
    return "";
}

TEST(Packaging, DebianPackageHoldsInstallsRunsAndPurges) {
    for (const char* tool : {"cpack", "dpkg-deb", "dpkg", "dpkg-shlibdeps"}) {
        ASSERT_TRUE(have(tool)) << tool << " is missing (Debian packages cmake, dpkg-dev)";
    }
    ASSERT_TRUE(fs::exists(build_dir() + "/c10k.1.gz"))
        << "no man page in the build: build the 'man' target (help2man)";
    TempDir dir;
    const std::string deb = build_package(dir.path() + "/out");
    ASSERT_FALSE(deb.empty());

    CommandResult info = shell("dpkg-deb --info " + quoted(deb));
    ASSERT_EQ(info.status, 0) << info.output;
    for (const char* field : {"Package: c10k", "Section: net", "Priority: optional", "Maintainer:",
                              "Depends: ", "conffiles", "postinst", "prerm", "postrm"}) {
        EXPECT_NE(info.output.find(field), std::string::npos) << field << " in\n" << info.output;
    }
    // Computed by dpkg-shlibdeps: libc6 among them, wherever it sorts (a sanitizer build puts
    // libasan8 first).
    std::size_t depends = info.output.find("Depends: ");
    ASSERT_NE(depends, std::string::npos);
    std::string depends_line =
        info.output.substr(depends, info.output.find('\n', depends) - depends);
    EXPECT_NE(depends_line.find("libc6"), std::string::npos) << depends_line;
    CommandResult conffiles = shell("dpkg-deb --info " + quoted(deb) + " conffiles");
    EXPECT_EQ(conffiles.output, "/etc/c10k/c10k.toml\n");

    CommandResult contents = shell("dpkg-deb --contents " + quoted(deb));
    ASSERT_EQ(contents.status, 0) << contents.output;
    for (const char* path : {"./usr/bin/c10k", "./usr/lib/systemd/system/c10k.service",
                             "./usr/lib/systemd/system/c10k.socket", "./etc/c10k/c10k.toml",
                             "./usr/share/man/man1/c10k.1.gz", "./usr/share/c10k/site/index.html",
                             "./usr/share/doc/c10k/README.md"}) {
        EXPECT_NE(contents.output.find(std::string(path) + "\n"), std::string::npos)
            << path << " in\n"
            << contents.output;
    }

    // dpkg installs into an empty root given its database folder. The maintainer scripts run
    // outside a chroot (the root has no shell to run them in) with DPKG_ROOT set, which makes
    // them touch nothing of this machine's; the root has none of the libraries the package
    // depends on, hence --force-depends (the binary runs with this machine's).
    const std::string root = dir.path() + "/root";
    fs::create_directories(root + "/var/lib/dpkg/info");
    fs::create_directories(root + "/var/lib/dpkg/updates");
    write_file(root + "/var/lib/dpkg/status", "");
    const std::string dpkg = "dpkg --root=" + quoted(root) +
                             " --force-not-root --force-depends --force-script-chrootless"
                             " --log=/dev/null ";
    CommandResult install = shell(dpkg + "-i " + quoted(deb));
    ASSERT_EQ(install.status, 0) << install.output;
    CommandResult status = shell("dpkg --root=" + quoted(root) + " --status c10k");
    EXPECT_NE(status.output.find("Status: install ok installed"), std::string::npos)
        << status.output;
    EXPECT_NE(status.output.find("Conffiles:\n /etc/c10k/c10k.toml "), std::string::npos)
        << status.output;

    const std::string installed = root + "/usr/bin/c10k";
    CommandResult version = shell(quoted(installed) + " --version");
    EXPECT_EQ(version.status, 0) << version.output;
    EXPECT_EQ(version.output, run_command({"--version"}).output);
    EXPECT_EQ(version.output.rfind("c10k ", 0), 0u) << version.output;
    // The package's version is the binary's (both should come from project() in CMakeLists.txt).
    CommandResult field = shell("dpkg-deb --field " + quoted(deb) + " Version");
    EXPECT_EQ("c10k " + field.output, version.output);

    // The installed pieces fit together: the unit runs the installed binary on the installed
    // config, and that config is valid against the installed demo site.
    const std::string unit = read_file(root + "/usr/lib/systemd/system/c10k.service");
    EXPECT_NE(unit.find("\nExecStart=/usr/bin/c10k serve --config /etc/c10k/c10k.toml\n"),
              std::string::npos);
    const std::string config = read_file(root + "/etc/c10k/c10k.toml");
    EXPECT_NE(config.find("\nroot = \"/usr/share/c10k/site\"\n"), std::string::npos);
    CommandResult check =
        shell(quoted(installed) + " serve -t --config " + quoted(root + "/etc/c10k/c10k.toml") +
              " --root " + quoted(root + "/usr/share/c10k/site"));
    EXPECT_EQ(check.status, 0) << check.output;

    // Removal keeps the conffile (edited or not); purge takes it and what the service wrote.
    fs::create_directories(root + "/var/log/private/c10k");
    CommandResult remove = shell(dpkg + "--remove c10k");
    EXPECT_EQ(remove.status, 0) << remove.output;
    EXPECT_FALSE(fs::exists(installed));
    EXPECT_TRUE(fs::exists(root + "/etc/c10k/c10k.toml"));
    CommandResult purge = shell(dpkg + "--purge c10k");
    EXPECT_EQ(purge.status, 0) << purge.output;
    EXPECT_FALSE(fs::exists(root + "/etc/c10k"));
    EXPECT_FALSE(fs::exists(root + "/var/log/private/c10k"));
}

TEST(Packaging, ManPageCoversEveryCommandAndRendersWithoutWarnings) {
    const std::string page = build_dir() + "/c10k.1";
    ASSERT_TRUE(fs::exists(page)) << "no man page in the build: build the 'man' target (help2man)";
    const std::string text = read_file(page);
    for (const char* part : {".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH COMMANDS",
                             ".SS \"c10k serve\"", ".SS \"c10k bench\"", ".SS \"c10k engines\"",
                             ".SS \"c10k compare\"", ".SH FILES", "/etc/c10k/c10k.toml"}) {
        EXPECT_NE(text.find(part), std::string::npos) << part;
    }
    // Options of `c10k serve`, from its --help.
    EXPECT_NE(text.find("\\-\\-check\\-config"), std::string::npos);
    EXPECT_NE(text.find("\\-\\-shutdown\\-grace"), std::string::npos);

    if (!have("groff")) GTEST_SKIP() << "groff is not installed (Debian package groff-base)";
    // -ww: every warning; -z: format without output, so that only warnings are printed.
    CommandResult render = shell("groff -man -Tutf8 -ww -z " + quoted(page));
    EXPECT_EQ(render.status, 0) << render.output;
    EXPECT_EQ(render.output, "");
}

}  // namespace
}  // namespace c10k::test
