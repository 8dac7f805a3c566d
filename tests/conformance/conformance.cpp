#include "conformance/conformance.hpp"

#include <unistd.h>

#include <filesystem>
#include <random>

#include "engine/engine.hpp"

namespace c10k::test {

SiteFixture::SiteFixture() {
    root = dir.path() + "/root";
    dir.write("root/index.html", "<h1>home</h1>\n");
    dir.write("root/hello.txt", "hello, world\n");
    dir.write("root/a.txt", "AAAA");
    dir.write("root/b.txt", "BBBBBBBB");
    dir.write("root/c.txt", "CCCCCCCCCCCC");
    dir.write("root/docs/index.html", "<h1>docs</h1>\n");
    dir.write("root/style.css", "body{}\n");
    dir.write("root/.hidden", "dotfile\n");
    dir.write("root/sub/inner.txt", "inner\n");
    dir.write("secret.txt", "TOP-SECRET-BESIDE-ROOT\n");
    std::mt19937 random(42);
    large.resize(5 * 1024 * 1024);
    for (auto& c : large) c = static_cast<char>(random());
    dir.write("root/large.bin", large);
    std::filesystem::create_symlink(dir.path() + "/secret.txt", root + "/link-out.txt");
}

void EngineTest::SetUp() {
    site_ = std::make_unique<SiteFixture>();
}

void EngineTest::TearDown() {
    if (server_) {
        int status = server_->stop();
        EXPECT_EQ(status, 0) << "server did not exit cleanly on SIGTERM; output:\n"
                             << server_->output();
    }
}

void EngineTest::start(std::vector<std::string> extra) {
    std::vector<std::string> args = {"serve",    "--engine",    GetParam(),  "--root", site_->root,
                                     "--listen", "127.0.0.1:0", "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(args);
}

std::string engine_test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (auto& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

}  // namespace c10k::test
