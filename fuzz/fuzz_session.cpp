// Request handling end to end, without sockets: arbitrary bytes go into an http::Session (llhttp,
// limits, pipelining, the static-file handler over a tree with traps in it), fed in arbitrary
// splits while the output is drained in arbitrary amounts, as a slow or hostile client would.
//
// Beyond "no crash and no sanitizer report", every input checks that:
//  - what the server sends is always a readable sequence of HTTP/1.1 responses (llhttp in
//    response mode), one per request handled, nothing after a "Connection: close" response;
//  - a file range at the front of the output lies within its file;
//  - where reads happened to end, and how much each write took, never change the bytes sent:
//    the run with one feed and the run with many pieces produce identical output (up to which
//    4xx refuses a malformed request, see the end of LLVMFuzzerTestOneInput);
//  - after the peer closes and the output is drained, the session is finished and stays silent.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <llhttp.h>

#include "fuzz_support.hpp"
#include "http/context.hpp"
#include "http/session.hpp"
#include "serve/static_files.hpp"

namespace {

using namespace c10k;

/// Passes requests to the static-file handler and remembers which were HEAD, since only the
/// request tells whether its response carries a body.
class RecordingHandler : public http::Handler {
public:
    explicit RecordingHandler(http::Handler& inner) : inner_(inner) {}

    void handle(const http::Request& request, http::Response& response) override {
        C10K_FUZZ_CHECK(!request.target.empty(), "a request reached the handler without a target");
        heads.push_back(request.method == http::Method::head);
        inner_.handle(request, response);
    }

    std::vector<bool> heads;

private:
    http::Handler& inner_;
};

/// Where the response that ends a connection over a protocol error (one beyond the handled
/// requests) starts, and its status; npos and 0 when there is none.
struct Ending {
    std::size_t offset = std::string::npos;
    int status = 0;
};

/// Reads the server's output as a client would, and checks its framing.
class ResponseChecker {
public:
    explicit ResponseChecker(const std::vector<bool>& heads) : heads_(heads) {
        llhttp_settings_init(&settings_);
        settings_.on_message_begin = [](llhttp_t* p) { return self(p).on_begin(); };
        settings_.on_status = [](llhttp_t* p, const char* at, std::size_t) {
            return self(p).on_status(at);
        };
        settings_.on_headers_complete = [](llhttp_t* p) { return self(p).on_headers(); };
        settings_.on_message_complete = [](llhttp_t* p) { return self(p).on_complete(); };
        llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
        parser_.data = this;
    }

    Ending check(const std::string& output) {
        base_ = output.data();
        llhttp_errno_t rc = llhttp_execute(&parser_, output.data(), output.size());
        C10K_FUZZ_CHECK(rc == HPE_OK, std::string("server output is not HTTP: ") +
                                          llhttp_errno_name(rc) + "\n" + output);
        rc = llhttp_finish(&parser_);
        C10K_FUZZ_CHECK(rc == HPE_OK && !in_message_, "server output ends inside a response\n" +
                                                          output);
        // Every handled request was answered; at most one more response (a protocol error or a
        // refused CONNECT) may follow, and it ends the connection.
        C10K_FUZZ_CHECK(finals_ == heads_.size() || finals_ == heads_.size() + 1,
                        "responses: " + std::to_string(finals_) +
                            ", handled requests: " + std::to_string(heads_.size()));
        return ending_;
    }

private:
    static ResponseChecker& self(llhttp_t* p) { return *static_cast<ResponseChecker*>(p->data); }

    int on_begin() {
        C10K_FUZZ_CHECK(!closed_, "a response was sent after a Connection: close response");
        in_message_ = true;
        return 0;
    }

    int on_status(const char* at) {
        // The Session always writes "HTTP/1.1 NNN " before the reason phrase.
        if (finals_ == heads_.size()) ending_.offset = static_cast<std::size_t>(at - base_) - 13;
        return 0;
    }

    int on_headers() {
        int status = parser_.status_code;
        C10K_FUZZ_CHECK(status >= 100 && status <= 599, "status " + std::to_string(status));
        bool interim = status < 200;
        bool head = !interim && finals_ < heads_.size() && heads_[finals_];
        if (!interim && finals_ == heads_.size()) ending_.status = status;
        // 1 tells llhttp that no body follows (RFC 9112 section 6.3).
        return (interim || head || status == 204 || status == 304) ? 1 : 0;
    }

    int on_complete() {
        in_message_ = false;
        if (parser_.status_code < 200) return 0;
        ++finals_;
        if (llhttp_should_keep_alive(&parser_) == 0) closed_ = true;
        return 0;
    }

    const std::vector<bool>& heads_;
    llhttp_settings_t settings_;
    llhttp_t parser_;
    const char* base_ = nullptr;
    Ending ending_;
    std::size_t finals_ = 0;
    bool in_message_ = false;
    bool closed_ = false;
};

/// Takes up to `budget` bytes of output from the session, as a socket that accepts only part
/// of what is offered. Returns the bytes taken.
std::size_t drain(http::Session& session, std::string& out, std::size_t budget) {
    std::size_t total = 0;
    while (session.has_output() && total < budget) {
        iovec iov[8];
        std::size_t count = session.gather(iov, 8);
        std::size_t taken = 0;
        if (count > 0) {
            for (std::size_t i = 0; i < count && total + taken < budget; ++i) {
                std::size_t n = std::min(iov[i].iov_len, budget - total - taken);
                out.append(static_cast<const char*>(iov[i].iov_base), n);
                taken += n;
                if (n < iov[i].iov_len) break;
            }
        } else {
            http::FileRange range;
            C10K_FUZZ_CHECK(session.front_file(range), "output queued but neither bytes nor a file");
            std::size_t n = static_cast<std::size_t>(
                std::min<std::uint64_t>({range.length, budget - total, 1u << 20}));
            std::string bytes(n, '\0');
            ssize_t got = ::pread(range.fd, bytes.data(), n, static_cast<off_t>(range.offset));
            C10K_FUZZ_CHECK(got == static_cast<ssize_t>(n), "a file range beyond its file's end");
            out += bytes;
            taken = n;
        }
        C10K_FUZZ_CHECK(taken > 0, "output queued whose front holds no bytes");
        session.consume(taken);
        total += taken;
    }
    return total;
}

void drain_all(http::Session& session, std::string& out) {
    // consume() may parse held-back pipelined requests and queue more: loop until quiet.
    while (session.has_output()) drain(session, out, SIZE_MAX);
}

/// Drives one connection over `data` as an engine would: feed only while the session wants
/// input, send what it queues, then the peer closes. With a plan, reads and writes are cut into
/// pieces; without one, everything arrives at once and every write is complete.
std::string run(http::LoopContext& context, const std::uint8_t* data, std::size_t size,
                fuzz::SplitPlan* plan) {
    http::Session session(context);
    std::string out;
    std::size_t pos = 0;
    while (pos < size) {
        if (!session.wants_read()) {
            drain_all(session, out);
            if (!session.wants_read()) break;  // closing: the rest is never read
        }
        std::size_t piece = plan ? plan->next(size - pos) : size - pos;
        session.feed(reinterpret_cast<const char*>(data) + pos, piece);
        pos += piece;
        if (plan) {
            drain(session, out, 1 + plan->below(4096));
        } else {
            drain_all(session, out);
        }
    }
    drain_all(session, out);
    session.on_peer_closed();
    drain_all(session, out);
    C10K_FUZZ_CHECK(session.should_close(), "input closed and output drained, yet not finished");
    // A finished session takes nothing more.
    static constexpr char kLate[] = "GET / HTTP/1.1\r\nHost: late\r\n\r\n";
    session.feed(kLate, sizeof kLate - 1);
    C10K_FUZZ_CHECK(!session.has_output(), "a finished session answered more input");
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::document_root();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::SplitPlan plan(data, size);
    http::Limits limits;
    if (plan.below(3) == 0) {
        // Small limits, so that every limit (and output back-pressure) is reached by short
        // inputs too.
        limits.max_header_bytes = 256;
        limits.max_headers = 4;
        limits.max_uri_bytes = 64;
        limits.max_body_bytes = 100;
        limits.max_pending_output = 512;
    }
    serve::StaticOptions options;
    options.root = fuzz::document_root();
    options.follow_symlinks = plan.below(2) == 0;
    serve::StaticFiles files(options);
    RecordingHandler handler(files);
    http::LoopContext context(handler, limits, http::Timeouts{});

    std::string whole = run(context, data, size, nullptr);
    Ending whole_end = ResponseChecker(handler.heads).check(whole);

    handler.heads.clear();
    std::string pieces = run(context, data, size, &plan);
    Ending pieces_end = ResponseChecker(handler.heads).check(pieces);
    if (whole == pieces) return 0;
    // One freedom is allowed: which error a malformed request gets may depend on where reads
    // ended. llhttp reports a bad byte inside a span (URL, header value) before the span's
    // callback when the span arrived whole, while a span cut by a read was already measured
    // against its limit (414/431). Either way the request is refused and the connection ends;
    // everything before that must be identical.
    C10K_FUZZ_CHECK(whole_end.offset != std::string::npos &&
                        pieces_end.offset != std::string::npos &&
                        whole.compare(0, whole_end.offset, pieces, 0, pieces_end.offset) == 0 &&
                        whole_end.status >= 400 && pieces_end.status >= 400,
                    "output depends on how input was split\n--- whole:\n" + whole +
                        "\n--- in pieces:\n" + pieces);
    return 0;
}
