#pragma once
// Helpers for handler tests: a temporary directory with a document root inside it and a secret
// file beside the root, and a way to call a handler with a hand-built request.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "http/request.hpp"
#include "http/response.hpp"
#include "serve/static_files.hpp"

namespace c10k::serve::testing {

/// <tmp>/root is served; <tmp>/secret.txt sits beside it and must never be reachable.
class TempTree {
public:
    TempTree() {
        std::string pattern = (std::filesystem::temp_directory_path() / "c10k-serve-XXXXXX");
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        base_ = pattern;
        root_ = base_ + "/root";
        std::filesystem::create_directory(root_);
        write_absolute(base_ + "/secret.txt", "TOP SECRET");
    }
    ~TempTree() {
        std::error_code ignored;
        std::filesystem::remove_all(base_, ignored);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const std::string& base() const { return base_; }
    const std::string& root() const { return root_; }
    std::string path(const std::string& relative) const { return root_ + "/" + relative; }

    void write(const std::string& relative, const std::string& contents) const {
        std::filesystem::create_directories(std::filesystem::path(path(relative)).parent_path());
        write_absolute(path(relative), contents);
    }
    void mkdir(const std::string& relative) const {
        std::filesystem::create_directories(path(relative));
    }
    void symlink(const std::string& target, const std::string& relative) const {
        std::filesystem::create_symlink(target, path(relative));
    }
    /// Sets a file's mtime to `seconds` since the epoch.
    void set_mtime(const std::string& relative, std::time_t seconds) const {
        timespec times[2] = {{seconds, 0}, {seconds, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, path(relative).c_str(), times, 0), 0);
    }

private:
    static void write_absolute(const std::string& file, const std::string& contents) {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << contents;
    }

    std::string base_;
    std::string root_;
};

inline StaticOptions options_for(const TempTree& tree) {
    StaticOptions options;
    options.root = tree.root();
    return options;
}

/// Calls the handler as a Session would, with headers kept alive for the call.
inline http::Response call(StaticFiles& handler, http::Method method, std::string_view target,
                           std::vector<http::Header> headers = {}) {
    http::Request request;
    request.method = method;
    request.method_text = method == http::Method::head ? "HEAD" : "GET";
    request.target = target;
    request.headers = headers;
    http::Response response;
    handler.handle(request, response);
    return response;
}

inline http::Response get(StaticFiles& handler, std::string_view target,
                          std::vector<http::Header> headers = {}) {
    return call(handler, http::Method::get, target, std::move(headers));
}

/// The value of a header line the handler added, or "<absent>".
inline std::string header_of(const http::Response& response, std::string_view name) {
    std::string_view lines = response.header_lines();
    while (!lines.empty()) {
        std::size_t end = lines.find("\r\n");
        std::string_view line = lines.substr(0, end);
        std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && http::iequals(line.substr(0, colon), name)) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            return std::string(value);
        }
        if (end == std::string_view::npos) break;
        lines.remove_prefix(end + 2);
    }
    return "<absent>";
}

/// The bytes the response would send, whatever kind of body it holds.
inline std::string body_of(http::Response& response) {
    switch (response.body_kind()) {
        case http::Response::BodyKind::text:
            return response.text();
        case http::Response::BodyKind::blob:
            return response.blob()->data.substr(response.body_offset(), response.body_length());
        case http::Response::BodyKind::file: {
            std::string bytes(response.body_length(), '\0');
            ssize_t n = ::pread(response.file()->fd.get(), bytes.data(), bytes.size(),
                                static_cast<off_t>(response.body_offset()));
            bytes.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
            return bytes;
        }
        case http::Response::BodyKind::none:
            break;
    }
    return {};
}

inline std::string body_of(http::Response&& response) {
    return body_of(response);
}

}  // namespace c10k::serve::testing
