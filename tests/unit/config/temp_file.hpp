#pragma once
// A config file written by a test into a fresh temporary directory, removed afterwards.

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace c10k::config::test {

class TempConfig {
public:
    explicit TempConfig(const std::string& contents, const std::string& name = "c10k.toml") {
        char pattern[] = "/tmp/c10k-config-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        path_ = dir_ + "/" + name;
        std::ofstream(path_) << contents;
    }
    ~TempConfig() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    TempConfig(const TempConfig&) = delete;
    TempConfig& operator=(const TempConfig&) = delete;

    const std::string& path() const { return path_; }
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    std::string path_;
};

}  // namespace c10k::config::test
