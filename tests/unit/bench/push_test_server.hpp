#pragma once
// A small push server for the bench's push tests, on top of TestServer (one thread per
// connection, blocking sockets, 127.0.0.1): POST /pub/<channel> publishes, GET with
// Accept: text/event-stream subscribes to a chunked SSE stream, any other GET is a long-poll.
// It keeps every message (so Last-Event-ID resumes without loss) and records what the bench
// sent. A Script makes it misbehave on purpose: skip an id, send one twice, withhold one, refuse a
// publish (503), cut every stream after a given message, or forget every id below a point
// (history-lost). Every stream gets every message, whatever channel its URL names.

#include <strings.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "unit/bench/test_server.hpp"

namespace c10k::bench::testing {

class PushTestServer {
public:
    /// What to do with the k-th publish (k from 0).
    struct Script {
        std::function<std::uint64_t(std::uint64_t k)> id_of;  ///< default: base + k
        std::function<bool(std::uint64_t k)> deliver;         ///< default: yes
        std::function<bool(std::uint64_t k)> duplicate;       ///< default: no
        std::function<bool(std::uint64_t k)> cut_after;       ///< default: no
        /// Answer 503 and publish nothing, as c10k serve --redis does while Redis is away.
        std::function<bool(std::uint64_t k)> refuse;  ///< default: no
        /// Non-zero: ids below this are forgotten (a recreated channel). A subscriber resuming
        /// from an id before `history_from - 1` is told history-lost, as c10k serve does.
        std::uint64_t history_from = 0;
    };
    /// One publish as received.
    struct Publish {
        std::int64_t received_ns = 0;  ///< monotonic
        std::string body;
        std::string head;
    };

    static constexpr std::uint64_t base_id = 1'700'000'000'000'000;

    PushTestServer() : PushTestServer(Script()) {}
    explicit PushTestServer(Script script,
                            std::chrono::milliseconds poll_timeout = std::chrono::milliseconds(100))
        : script_(std::move(script)),
          poll_timeout_(poll_timeout),
          server_([this](int& fd, TestServer& server) { serve(fd, server); }) {
        if (!script_.id_of) script_.id_of = [](std::uint64_t k) { return base_id + k; };
        if (!script_.deliver) script_.deliver = [](std::uint64_t) { return true; };
        if (!script_.duplicate) script_.duplicate = [](std::uint64_t) { return false; };
        if (!script_.cut_after) script_.cut_after = [](std::uint64_t) { return false; };
        if (!script_.refuse) script_.refuse = [](std::uint64_t) { return false; };
    }

    std::string url(const std::string& path) const { return server_.url(path); }
    int connections() const { return server_.connections(); }

    /// The Last-Event-ID of every subscribe and poll, in arrival order ("" when absent).
    std::vector<std::string> last_event_ids() {
        std::lock_guard lock(mutex_);
        return last_event_ids_;
    }
    std::vector<Publish> publishes() {
        std::lock_guard lock(mutex_);
        return publishes_;
    }
    std::uint64_t not_modified_sent() {
        std::lock_guard lock(mutex_);
        return not_modified_;
    }
    std::uint64_t subscribes() {
        std::lock_guard lock(mutex_);
        return subscribes_;
    }

private:
    struct Message {
        std::uint64_t id;
        std::string data;
    };

    static std::string header(const std::string& head, const char* name) {
        std::string wanted = std::string("\r\n") + name + ":";
        for (std::size_t pos = 0; (pos = head.find("\r\n", pos)) != std::string::npos; pos += 2) {
            if (::strncasecmp(head.c_str() + pos, wanted.c_str(), wanted.size()) != 0) continue;
            std::size_t start = pos + wanted.size();
            while (start < head.size() && head[start] == ' ') ++start;
            return head.substr(start, head.find("\r\n", start) - start);
        }
        return {};
    }

    static bool read_head(int fd, TestServer& server, std::string& buffer, std::string& head) {
        while (true) {
            auto end = buffer.find("\r\n\r\n");
            if (end != std::string::npos) {
                head = "\r\n" + buffer.substr(0, end + 2);  // "\r\n" first: header() looks for it
                buffer.erase(0, end + 4);
                return true;
            }
            if (!server.wait_readable(fd)) return false;
            char chunk[4096];
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
    }

    static std::string sse_chunk(const std::string& text) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", text.size());
        return size + text + "\r\n";
    }

    static std::string event_text(const Message& m) {
        return "id: " + std::to_string(m.id) + "\ndata: " + m.data + "\n\n";
    }

    bool forgotten(const std::string& last) const {
        return script_.history_from != 0 && !last.empty() &&
               std::stoull(last) + 1 < script_.history_from;
    }

    void serve(int& fd, TestServer& server) {
        std::string buffer;
        std::string head;
        while (read_head(fd, server, buffer, head)) {
            if (head.compare(2, 5, "POST ") == 0) {
                if (!publish(fd, server, buffer, head)) return;
            } else if (header(head, "Accept") == "text/event-stream") {
                subscribe(fd, server, head);
                return;
            } else if (!poll(fd, head)) {
                return;
            }
        }
    }

    bool publish(int fd, TestServer& server, std::string& buffer, const std::string& head) {
        std::size_t length = std::stoul(header(head, "Content-Length"));
        while (buffer.size() < length) {
            if (!server.wait_readable(fd)) return false;
            char chunk[4096];
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        std::string body = buffer.substr(0, length);
        buffer.erase(0, length);
        std::uint64_t id;
        std::size_t subscribers;
        bool refused = false;
        {
            std::lock_guard lock(mutex_);
            std::uint64_t k = publishes_.size();
            publishes_.push_back(Publish{core::monotonic_ns(), body, head});
            refused = script_.refuse(k);
            id = script_.id_of(k);
            subscribers = streams_.size();
            if (!refused && script_.deliver(k)) {
                Message message{id, body};
                history_.push_back(message);
                std::string frame = sse_chunk(event_text(message));
                if (script_.duplicate(k)) frame += frame;
                for (int stream : streams_) TestServer::send_all(stream, frame);
                if (script_.cut_after(k)) {
                    // Cut every stream: its thread sees the end and closes the socket.
                    for (int stream : streams_) ::shutdown(stream, SHUT_RDWR);
                    streams_.clear();
                }
            }
        }
        changed_.notify_all();
        if (refused) {
            std::string error = "{\"error\":\"redis is away\"}";
            return TestServer::send_all(
                fd,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                "Retry-After: 1\r\nContent-Length: " +
                    std::to_string(error.size()) + "\r\n\r\n" + error);
        }
        std::string json = "{\"id\":\"" + std::to_string(id) +
                           "\",\"subscribers\":" + std::to_string(subscribers) + "}";
        return TestServer::send_all(
            fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(json.size()) + "\r\n\r\n" + json);
    }

    void subscribe(int fd, TestServer& server, const std::string& head) {
        std::string last = header(head, "Last-Event-ID");
        {
            std::lock_guard lock(mutex_);
            last_event_ids_.push_back(last);
            subscribes_++;
            // Head, retry and a heartbeat, then what the subscriber missed, registered under
            // the same lock so that no publish falls between.
            std::string out =
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
                "chunked\r\n\r\n" +
                sse_chunk("retry: 1000\n:\n\n");
            if (forgotten(last)) out += sse_chunk("event: history-lost\ndata: {}\n\n");
            if (!last.empty()) {
                std::uint64_t after = std::stoull(last);
                for (const auto& message : history_) {
                    if (message.id > after) out += sse_chunk(event_text(message));
                }
            }
            if (!TestServer::send_all(fd, out)) return;
            streams_.push_back(fd);
        }
        // Hold the stream until the bench closes it, the script cuts it, or the test ends.
        while (server.wait_readable(fd)) {
            char chunk[4096];
            if (::recv(fd, chunk, sizeof chunk, 0) <= 0) break;
        }
        std::lock_guard lock(mutex_);
        std::erase(streams_, fd);
    }

    bool poll(int fd, const std::string& head) {
        std::string last = header(head, "Last-Event-ID");
        std::unique_lock lock(mutex_);
        last_event_ids_.push_back(last);
        // Without an id, the oldest message held answers (the tests publish only after every
        // subscriber is polling, so that is the first message of the run).
        std::uint64_t after = last.empty() ? 0 : std::stoull(last);
        const Message* found = nullptr;
        changed_.wait_for(lock, poll_timeout_, [&] {
            for (const auto& message : history_) {
                if (message.id > after) {
                    found = &message;
                    return true;
                }
            }
            return false;
        });
        std::string response;
        if (found == nullptr) {
            not_modified_++;
            response = "HTTP/1.1 304 Not Modified\r\n\r\n";
        } else if (forgotten(last) && found->id >= script_.history_from) {
            // As c10k serve answers: go on from just before the oldest message held.
            response = "HTTP/1.1 200 OK\r\nETag: \"" + std::to_string(found->id - 1) +
                       "\"\r\nX-Event: history-lost\r\nContent-Length: 2\r\n\r\n{}";
        } else {
            response = "HTTP/1.1 200 OK\r\nETag: \"" + std::to_string(found->id) +
                       "\"\r\nContent-Length: " + std::to_string(found->data.size()) + "\r\n\r\n" +
                       found->data;
        }
        lock.unlock();
        return TestServer::send_all(fd, response);
    }

    Script script_;
    std::chrono::milliseconds poll_timeout_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Message> history_;
    std::vector<int> streams_;
    std::vector<Publish> publishes_;
    std::vector<std::string> last_event_ids_;
    std::uint64_t not_modified_ = 0;
    std::uint64_t subscribes_ = 0;
    TestServer server_;  // last: its threads use everything above and stop first
};

}  // namespace c10k::bench::testing
