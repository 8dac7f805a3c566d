#include "support/push_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

namespace c10k::test {

namespace {

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

SseClient::SseClient(int port, std::string_view path, std::string_view extra_headers, bool http10,
                     int receive_buffer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd_);
        throw std::runtime_error("connect failed");
    }
    std::string request =
        "GET " + std::string(path) + (http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n") +
        "Host: test\r\nAccept: text/event-stream\r\n" + std::string(extra_headers) + "\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        throw std::runtime_error("send failed");
    }
}

SseClient::~SseClient() {
    if (fd_ >= 0) ::close(fd_);
}

bool SseClient::fill(int timeout_ms) {
    if (eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buffer[65536];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    raw_.append(buffer, static_cast<std::size_t>(n));
    return true;
}

bool SseClient::read_head(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (raw_.find("\r\n\r\n") == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0 || !fill(static_cast<int>(left))) return false;
    }
    std::size_t end = raw_.find("\r\n\r\n");
    head_ = raw_.substr(0, end + 2);
    raw_.erase(0, end + 4);
    status_ = std::stoi(head_.substr(9, 3));
    chunked_ = iequal(header("transfer-encoding"), "chunked");
    decode();
    return true;
}

std::string SseClient::header(std::string_view name) const {
    std::size_t at = head_.find("\r\n");
    while (at != std::string::npos && at + 2 < head_.size()) {
        std::size_t line_end = head_.find("\r\n", at + 2);
        std::string_view line(head_.data() + at + 2, line_end - at - 2);
        std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && iequal(line.substr(0, colon), name)) {
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            return std::string(value);
        }
        at = line_end;
    }
    return {};
}

void SseClient::decode() {
    if (!chunked_) {
        text_ += raw_;
        raw_.clear();
        return;
    }
    for (;;) {
        std::size_t line_end = raw_.find("\r\n");
        if (line_end == std::string::npos) return;
        std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
        if (raw_.size() < line_end + 2 + size + 2) return;
        if (size == 0) {
            last_chunk_ = true;
            raw_.erase(0, line_end + 4);
            return;
        }
        text_.append(raw_, line_end + 2, size);
        raw_.erase(0, line_end + 2 + size + 2);
    }
}

bool SseClient::parse_event(SseEvent& out) {
    // An event ends at a blank line; lines end in LF here (the server writes LF only).
    for (;;) {
        std::size_t end = text_.find("\n\n");
        if (end == std::string::npos) return false;
        std::string block = text_.substr(0, end + 1);
        text_.erase(0, end + 2);
        SseEvent event;
        bool has_data = false;
        bool only_comments = true;
        std::size_t at = 0;
        while (at < block.size()) {
            std::size_t nl = block.find('\n', at);
            std::string line = block.substr(at, nl - at);
            at = nl + 1;
            if (!line.empty() && line[0] == ':') {
                ++comments_;
                continue;
            }
            only_comments = false;
            std::size_t colon = line.find(':');
            std::string field = line.substr(0, colon);
            std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.erase(0, 1);
            if (field == "data") {
                if (has_data) event.data += '\n';
                event.data += value;
                has_data = true;
            } else if (field == "id") {
                event.id = value;
            } else if (field == "event") {
                event.event = value;
            } else if (field == "retry") {
                last_retry_ = value;
            }
        }
        if (only_comments || !has_data) continue;  // retry-only blocks and heartbeats
        out = event;
        return true;
    }
}

bool SseClient::next_event(SseEvent& out, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        decode();
        if (parse_event(out)) return true;
        if (last_chunk_) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0 || !fill(static_cast<int>(left))) return false;
    }
}

bool SseClient::wait_end(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        decode();
        if (last_chunk_ || eof_) return true;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) return false;
        fill(static_cast<int>(left));
    }
}

int publish_port(ServerProcess& server) {
    static const std::regex line(R"(publishing on http://[^ /]+:([0-9]+)/pub/)");
    for (int i = 0; i < 50; ++i) {
        std::string output = server.output();
        std::smatch match;
        if (std::regex_search(output, match, line)) return std::stoi(match[1].str());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("no publishing line in the server's output:\n" + server.output());
}

HttpResponse request(int port, std::string_view method, std::string_view path,
                     std::string_view body, std::string_view extra_headers) {
    HttpClient client(port);
    std::string text = std::string(method) + " " + std::string(path) +
                       " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
    client.send(text);
    HttpResponse response;
    if (!client.read_response(response, 10000, method == "HEAD")) response.status = 0;
    return response;
}

}  // namespace c10k::test
