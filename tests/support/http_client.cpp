#include "support/http_client.hpp"
#include "support/connect.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace c10k::test {

namespace {

using Clock = std::chrono::steady_clock;

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

// Collects one response; pauses llhttp at its end so the rest stays for the next call.
struct ResponseBuilder {
    HttpResponse* out;
    bool head;
    bool complete = false;
    bool in_value = false;

    static ResponseBuilder& of(llhttp_t* p) { return *static_cast<ResponseBuilder*>(p->data); }
    static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
        auto& b = of(p);
        if (b.out->headers.empty() || b.in_value) b.out->headers.emplace_back();
        b.in_value = false;
        b.out->headers.back().first.append(at, n);
        return 0;
    }
    static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
        auto& b = of(p);
        b.in_value = true;
        b.out->headers.back().second.append(at, n);
        return 0;
    }
    static int on_headers_complete(llhttp_t* p) {
        auto& b = of(p);
        b.out->status = p->status_code;
        b.out->version_minor = p->http_minor;
        if (p->status_code >= 100 && p->status_code < 200) {
            // An interim response (100 Continue): forget it, a final one follows.
            b.out->headers.clear();
            return 0;
        }
        return b.head ? 1 : 0;  // 1: no body follows (HEAD)
    }
    static int on_body(llhttp_t* p, const char* at, std::size_t n) {
        of(p).out->body.append(at, n);
        return 0;
    }
    static int on_message_complete(llhttp_t* p) {
        auto& b = of(p);
        if (p->status_code >= 100 && p->status_code < 200) return 0;
        b.complete = true;
        return HPE_PAUSED;
    }
};

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (iequal(n, name)) return v;
    }
    return {};
}

bool HttpResponse::has_header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
        if (iequal(n, name)) return true;
    }
    return false;
}

HttpClient::HttpClient(int port, const char* host) {
    sockaddr_storage storage{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (::inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        length = sizeof *v4;
    } else if (::inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        length = sizeof *v6;
    } else {
        throw std::runtime_error(std::string("not an address: ") + host);
    }
    fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect_through_signals(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        int error = errno;
        ::close(fd_);
        throw std::runtime_error(std::string("connect: ") + std::strerror(error));
    }
    timeval send_timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
}

HttpClient::~HttpClient() {
    if (fd_ >= 0) ::close(fd_);
}

void HttpClient::send(std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("send: ") + std::strerror(errno));
        }
        done += static_cast<std::size_t>(n);
    }
}

void HttpClient::send_get(std::string_view path, std::string_view extra_headers) {
    std::string request = "GET ";
    request.append(path);
    request.append(" HTTP/1.1\r\nHost: test\r\n");
    request.append(extra_headers);
    request.append("\r\n");
    send(request);
}

bool HttpClient::fill(int timeout_ms) {
    if (eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buffer[65536];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
}

bool HttpClient::read_response(HttpResponse& out, int timeout_ms, bool head) {
    out = HttpResponse{};
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    settings.on_header_field = ResponseBuilder::on_header_field;
    settings.on_header_value = ResponseBuilder::on_header_value;
    settings.on_headers_complete = ResponseBuilder::on_headers_complete;
    settings.on_body = ResponseBuilder::on_body;
    settings.on_message_complete = ResponseBuilder::on_message_complete;
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &settings);
    ResponseBuilder builder{&out, head};
    parser.data = &builder;

    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t parsed = 0;  // bytes of pending_ already given to this parser
    for (;;) {
        if (parsed < pending_.size()) {
            const char* start = pending_.data() + parsed;
            llhttp_errno_t rc = llhttp_execute(&parser, start, pending_.size() - parsed);
            if (rc == HPE_PAUSED && builder.complete) {
                std::size_t used =
                    static_cast<std::size_t>(llhttp_get_error_pos(&parser) - pending_.data());
                pending_.erase(0, used);
                return true;
            }
            if (rc != HPE_OK) {
                error_ = llhttp_get_error_reason(&parser) ? llhttp_get_error_reason(&parser)
                                                          : "parse error";
                return false;
            }
            parsed = pending_.size();
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            error_ = "timeout";
            return false;
        }
        if (!fill(static_cast<int>(left.count()))) {
            if (eof_) {
                // A close-delimited body ends here.
                if (llhttp_finish(&parser) == HPE_OK && builder.complete) {
                    pending_.clear();
                    return true;
                }
                error_ = "connection closed";
                return false;
            }
        }
    }
}

bool HttpClient::wait_closed(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!eof_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        fill(static_cast<int>(left.count()));
    }
    return true;
}

HttpResponse fetch(int port, std::string_view path, std::string_view extra_headers) {
    HttpResponse response;
    try {
        HttpClient client(port);
        client.send_get(path, extra_headers);
        if (!client.read_response(response)) response.status = 0;
    } catch (const std::exception&) {
        response.status = 0;
    }
    return response;
}

}  // namespace c10k::test
