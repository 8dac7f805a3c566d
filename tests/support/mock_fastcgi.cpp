#include "support/mock_fastcgi.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <stdexcept>

namespace c10k::test {

std::string fastcgi_record(int type, std::string_view content, int request_id) {
    std::size_t padding = (8 - content.size() % 8) % 8;
    std::string out(8, '\0');
    out[0] = 1;
    out[1] = static_cast<char>(type);
    out[2] = static_cast<char>(request_id >> 8);
    out[3] = static_cast<char>(request_id & 0xff);
    out[4] = static_cast<char>(content.size() >> 8);
    out[5] = static_cast<char>(content.size() & 0xff);
    out[6] = static_cast<char>(padding);
    out.append(content);
    out.append(padding, '\0');
    return out;
}

std::string fastcgi_response(std::string_view output) {
    return fastcgi_record(6, output) + fastcgi_record(6, {}) +
           fastcgi_record(3, std::string(8, '\0'));
}

namespace {

std::size_t record_size(const std::string& input) {
    if (input.size() < 8) return 0;
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(input[i]); };
    std::size_t total = 8 + (byte(4) << 8 | byte(5)) + byte(6);
    return input.size() < total ? 0 : total;
}

void append_pair(std::string& out, std::string_view name, std::string_view value) {
    out.push_back(static_cast<char>(name.size()));
    out.push_back(static_cast<char>(value.size()));
    out.append(name);
    out.append(value);
}

/// The value of `wanted` in PARAMS content ("" when absent).
std::string param(std::string_view content, std::string_view wanted) {
    auto length = [&](std::size_t& at) -> std::size_t {
        auto byte = [&](std::size_t i) { return static_cast<unsigned char>(content[i]); };
        if (at >= content.size()) return 0;
        if (byte(at) < 128) return byte(at++);
        std::size_t n =
            (byte(at) & 0x7f) << 24 | byte(at + 1) << 16 | byte(at + 2) << 8 | byte(at + 3);
        at += 4;
        return n;
    };
    std::size_t at = 0;
    while (at < content.size()) {
        std::size_t name = length(at);
        std::size_t value = length(at);
        if (at + name + value > content.size()) break;
        if (content.substr(at, name) == wanted)
            return std::string(content.substr(at + name, value));
        at += name + value;
    }
    return {};
}

}  // namespace

MockFastcgi::MockFastcgi(Behave behave, bool answer_queries)
    : behave_(std::move(behave)), answer_queries_(answer_queries) {
    start();
}

MockFastcgi::MockFastcgi(Multiplexing multiplexing)
    : multiplexing_(std::move(multiplexing)), multiplexes_(true) {
    start();
}

void MockFastcgi::start() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("mock FastCGI: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
}

MockFastcgi::~MockFastcgi() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
}

void MockFastcgi::run() {
    while (!stop_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        // The first record says whether this is the server's GET_VALUES query.
        std::string input;
        while (!stop_ && record_size(input) == 0) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buffer[4096];
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            input.append(buffer, static_cast<std::size_t>(n));
        }
        std::size_t first = record_size(input);
        if (first > 0 && input[1] == 9) {
            ++queries_;
            if (!answer_queries_) {
                // Silent until the server gives up on the query and closes the connection.
                char buffer[4096];
                while (!stop_) {
                    pollfd p{fd, POLLIN, 0};
                    if (::poll(&p, 1, 50) <= 0) continue;
                    if (::recv(fd, buffer, sizeof buffer, 0) <= 0) break;
                }
                ::close(fd);
                continue;
            }
            std::string pairs;
            append_pair(pairs, "FCGI_MPXS_CONNS", multiplexes_ ? "1" : "0");
            if (multiplexing_.max_requests > 0) {
                append_pair(pairs, "FCGI_MAX_REQS", std::to_string(multiplexing_.max_requests));
            }
            send_all(fd, fastcgi_record(10, pairs, 0));
            input.erase(0, first);
            if (!multiplexes_) {
                ::close(fd);  // the server does not use it for a request either
                continue;
            }
        }
        if (first > 0 || !input.empty()) {
            if (multiplexes_) {
                serve_multiplexed(fd, ++connections_, std::move(input));
            } else {
                serve(fd, ++connections_, std::move(input));
            }
        }
        ::close(fd);
    }
}

bool MockFastcgi::send_all(int fd, std::string_view rest) {
    while (!rest.empty()) {
        ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::vector<int> MockFastcgi::request_ids() const {
    std::lock_guard lock(mutex_);
    return request_ids_;
}

std::vector<std::string> MockFastcgi::aborted() const {
    std::lock_guard lock(mutex_);
    return aborted_;
}

void MockFastcgi::serve_multiplexed(int fd, int connection, std::string input) {
    struct Request {
        std::string params;
        std::string stdin;
        bool stdin_ended = false;
        bool answered = false;
    };
    std::map<int, Request> requests;  // by request id: begun and not ended
    std::map<int, std::string> uris;  // by request id: the last REQUEST_URI it carried
    bool first_round = connection == 1;
    while (!stop_) {
        // Every whole record: BEGIN_REQUEST, PARAMS, STDIN, ABORT_REQUEST.
        std::string out;
        for (std::size_t size = record_size(input); size > 0; size = record_size(input)) {
            auto byte = [&](std::size_t i) { return static_cast<unsigned char>(input[i]); };
            int type = byte(1);
            int id = byte(2) << 8 | byte(3);
            std::string_view content(input.data() + 8, byte(4) << 8 | byte(5));
            if (type == 1) {
                requests[id] = Request{};
                ++requests_;
                most_in_flight_ =
                    std::max(most_in_flight_.load(), static_cast<int>(requests.size()));
                std::lock_guard lock(mutex_);
                if (std::find(request_ids_.begin(), request_ids_.end(), id) == request_ids_.end()) {
                    request_ids_.push_back(id);
                }
            } else if (type == 4 && requests.count(id) > 0) {
                requests[id].params.append(content);
                if (content.empty()) uris[id] = param(requests[id].params, "REQUEST_URI");
            } else if (type == 5 && requests.count(id) > 0) {
                requests[id].stdin.append(content);
                if (content.empty()) requests[id].stdin_ended = true;
            } else if (type == 2) {
                // Also for a request answered whole already (its END_REQUEST may be on its way):
                // the server aborted it before it read that far.
                {
                    std::lock_guard lock(mutex_);
                    aborted_.push_back(uris[id]);
                }
                if (requests.erase(id) > 0) {
                    out += fastcgi_record(3, std::string(8, '\0'), id);  // the abort's answer
                }
            }
            input.erase(0, size);
        }
        // Answers, once enough requests are ready: one STDOUT record of each in turn.
        std::vector<int> ready;
        for (auto& [id, request] : requests) {
            if (request.stdin_ended && !request.answered) ready.push_back(id);
        }
        int wanted = first_round ? multiplexing_.gather : 1;
        if (!ready.empty() && static_cast<int>(ready.size()) >= wanted) {
            std::vector<std::vector<std::string>> records(ready.size());
            for (std::size_t i = 0; i < ready.size(); ++i) {
                Request& request = requests[ready[i]];
                request.answered = true;
                MultiplexReply reply =
                    multiplexing_.behave(param(request.params, "REQUEST_URI"), request.stdin);
                std::string_view output = reply.output;
                bool whole = reply.send_bytes >= output.size();
                if (!whole) output = output.substr(0, reply.send_bytes);
                for (std::size_t at = 0; at < output.size(); at += multiplexing_.record_bytes) {
                    records[i].push_back(
                        fastcgi_record(6, output.substr(at, multiplexing_.record_bytes), ready[i]));
                }
                if (whole) {
                    records[i].push_back(fastcgi_record(6, {}, ready[i]) +
                                         fastcgi_record(3, std::string(8, '\0'), ready[i]));
                    requests.erase(ready[i]);
                }
            }
            for (std::size_t turn = 0;; ++turn) {
                bool any = false;
                for (auto& lane : records) {
                    if (turn < lane.size()) {
                        out += lane[turn];
                        any = true;
                    }
                }
                if (!any) break;
            }
            if (!send_all(fd, out)) return;
            out.clear();
            if (first_round && multiplexing_.close_after_round) return;
            first_round = false;
        }
        if (!out.empty() && !send_all(fd, out)) return;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char buffer[65536];
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return;  // the server closed it
        input.append(buffer, static_cast<std::size_t>(n));
    }
}

void MockFastcgi::serve(int fd, int connection, std::string input) {
    // One connection at a time, one request at a time: what the server under test does with
    // php-fpm too. Records are read until the empty STDIN record ends a request.
    while (!stop_) {
        bool stdin_ended = false;
        while (!stdin_ended) {
            while (input.size() >= 8) {
                auto byte = [&](std::size_t i) { return static_cast<unsigned char>(input[i]); };
                std::size_t length = byte(4) << 8 | byte(5);
                std::size_t total = 8 + length + byte(6);
                if (input.size() < total) break;
                if (byte(1) == 5 && length == 0) stdin_ended = true;
                input.erase(0, total);
                if (stdin_ended) break;
            }
            if (stdin_ended) break;
            pollfd p{fd, POLLIN, 0};
            if (stop_) return;
            if (::poll(&p, 1, 50) <= 0) continue;
            char buffer[65536];
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) return;  // the server closed it
            input.append(buffer, static_cast<std::size_t>(n));
        }
        FastcgiReply reply = behave_(connection, ++requests_);
        std::string_view rest = reply.bytes;
        while (!rest.empty()) {
            ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n <= 0) return;
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        if (reply.close) return;
    }
}

}  // namespace c10k::test
