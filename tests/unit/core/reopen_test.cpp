// SIGUSR1 reopens registered log files in place: after a rename (what logrotate does), writes
// to the same descriptor land in a fresh file of the old name.

#include "core/reopen.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace c10k::core {
namespace {

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class Reopen : public ::testing::Test {
protected:
    void SetUp() override {
        char dir[] = "/tmp/c10k-reopen-XXXXXX";
        ASSERT_NE(::mkdtemp(dir), nullptr);
        dir_ = dir;
        path_ = dir_ + "/access.log";
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        ASSERT_GE(fd_, 0);
        ASSERT_TRUE(reopen_on_signal(fd_, path_));
    }
    void TearDown() override {
        forget_reopen(fd_);
        ::close(fd_);
        std::remove(path_.c_str());
        std::remove((path_ + ".1").c_str());
        ::rmdir(dir_.c_str());
    }
    void write_line(const std::string& line) {
        ASSERT_EQ(::write(fd_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    }

    std::string dir_;
    std::string path_;
    int fd_ = -1;
};

TEST_F(Reopen, ASignalAfterARenameStartsAFreshFileOnTheSameDescriptor) {
    install_reopen_handler();
    (void)take_reopen_request();
    write_line("before\n");
    ASSERT_EQ(std::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
    write_line("still old\n");  // until the signal, the renamed file
    ASSERT_EQ(::raise(SIGUSR1), 0);
    write_line("after\n");
    EXPECT_EQ(read(path_ + ".1"), "before\nstill old\n");
    EXPECT_EQ(read(path_), "after\n");
    EXPECT_TRUE(take_reopen_request());
    EXPECT_FALSE(take_reopen_request()) << "once per signal";
}

TEST_F(Reopen, AForgottenDescriptorIsLeftAlone) {
    forget_reopen(fd_);
    write_line("one\n");
    ASSERT_EQ(std::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
    reopen_now();
    write_line("two\n");
    EXPECT_EQ(read(path_ + ".1"), "one\ntwo\n");
    EXPECT_FALSE(std::ifstream(path_).good()) << "nothing reopened it";
}

TEST_F(Reopen, AtMostEightFilesAtOnce) {
    int extra[8];
    int taken = 0;
    for (int& fd : extra) {
        fd = ::dup(fd_);
        if (reopen_on_signal(fd, path_)) ++taken;
    }
    EXPECT_EQ(taken, 7) << "one slot is this fixture's";
    for (int fd : extra) {
        forget_reopen(fd);
        ::close(fd);
    }
}

}  // namespace
}  // namespace c10k::core
