// c10k proxy's backend-response parser (proxy::ResponseParser). A backend may be broken or
// hostile; whatever it sends, the proxy must not crash, must not take bytes it was not given,
// must not pass on more body than the response announced, and must reach the same conclusion
// however recv() happened to split the bytes.
//
// Each input is parsed twice with one parser (reset in between, so that reused storage is
// exercised): in one piece, and in pieces chosen from the input's hash. The request method
// (HEAD or not) and the limits are chosen from the hash too, small limits included so that
// the limit paths are reached. Checks: callbacks in order (at most one head, body only after
// it, at most one end); no piece consumes more than it was given, and an unfinished response
// consumes all of it; a Content-Length body delivers at most (and, complete, exactly) that
// many bytes; a kept-alive connection only after a complete, framed response; both runs agree
// on everything they report.

#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "proxy/response_parser.hpp"

namespace {

using c10k::proxy::Framing;
using c10k::proxy::ParseError;
using c10k::proxy::ResponseParser;

struct Transcript : c10k::proxy::ResponseSink {
    int heads = 0;
    int completes = 0;
    int status = 0;
    Framing framing = Framing::unknown;
    std::uint64_t content_length = 0;
    std::uint64_t body_bytes = 0;
    std::string forwarded;
    std::string body;
    ParseError error = ParseError::none;
    std::size_t consumed = 0;
    bool complete = false;
    bool keep_alive = false;

    void on_head(const ResponseParser& parser) override {
        C10K_FUZZ_CHECK(heads == 0, "a second head");
        ++heads;
        status = parser.status();
        C10K_FUZZ_CHECK(status >= 100 && status <= 599, std::to_string(status));
        C10K_FUZZ_CHECK(status == 101 || status >= 200, "an interim head surfaced");
        framing = parser.framing();
        C10K_FUZZ_CHECK(framing != Framing::unknown, "a head without framing");
        content_length = parser.content_length();
        parser.append_forwarded_headers(forwarded);
    }
    void on_body(const char* data, std::size_t size) override {
        C10K_FUZZ_CHECK(heads == 1 && completes == 0, "body outside the response");
        C10K_FUZZ_CHECK(size > 0, "an empty piece");
        C10K_FUZZ_CHECK(framing != Framing::none, "body for a response without one");
        body_bytes += size;
        if (framing == Framing::length) {
            C10K_FUZZ_CHECK(body_bytes <= content_length, "more body than Content-Length");
        }
        // Only the first bytes are kept for the comparison: a body may be large.
        if (body.size() < 4096) body.append(data, std::min(size, 4096 - body.size()));
    }
    void on_complete() override {
        C10K_FUZZ_CHECK(heads == 1 && completes == 0, "an end outside the response");
        ++completes;
        if (framing == Framing::length) {
            C10K_FUZZ_CHECK(body_bytes == content_length, "complete before Content-Length");
        }
    }
};

Transcript run(ResponseParser& parser, bool head, const std::uint8_t* data, std::size_t size,
               c10k::fuzz::SplitPlan* plan) {
    Transcript t;
    parser.reset(head ? c10k::http::Method::head : c10k::http::Method::get);
    const char* bytes = reinterpret_cast<const char*>(data);
    std::size_t pos = 0;
    while (pos < size) {
        std::size_t piece = plan ? plan->next(size - pos) : size - pos;
        c10k::proxy::ParseResult result = parser.feed(bytes + pos, piece, t);
        C10K_FUZZ_CHECK(result.consumed <= piece, "consumed more than given");
        t.consumed += result.consumed;
        if (!result.ok()) {
            t.error = result.error;
            C10K_FUZZ_CHECK(parser.error() == result.error, "error() disagrees");
            break;
        }
        if (parser.complete()) break;
        C10K_FUZZ_CHECK(result.consumed == piece, "an unfinished response left bytes unread");
        pos += piece;
    }
    if (t.error == ParseError::none && !parser.complete()) {
        c10k::proxy::ParseResult result = parser.on_eof(t);
        t.error = result.error;
        if (result.ok()) {
            C10K_FUZZ_CHECK(t.framing == Framing::close_delimited, "EOF completed a framed body");
        }
    }
    C10K_FUZZ_CHECK(t.consumed <= size, "consumed more than the input");
    t.complete = parser.complete();
    t.keep_alive = parser.keep_alive();
    C10K_FUZZ_CHECK(t.complete == (t.completes == 1), "complete() disagrees with on_complete");
    if (t.keep_alive) {
        C10K_FUZZ_CHECK(t.complete && t.framing != Framing::close_delimited && t.status != 101,
                        "a connection kept alive that cannot be");
    }
    if (t.error != ParseError::none) {
        C10K_FUZZ_CHECK(!t.complete && !t.keep_alive, "an error after the end");
        (void)parser.error_detail();
        (void)c10k::proxy::describe(t.error);
    }
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    c10k::fuzz::SplitPlan plan(data, size);
    bool head = plan.below(4) == 0;
    ResponseParser::Limits limits;
    if (plan.below(4) == 0) {
        limits.max_header_bytes = 16 + plan.below(256);
        limits.max_headers = plan.below(8);
    }
    ResponseParser parser(limits);
    Transcript whole = run(parser, head, data, size, nullptr);
    Transcript pieces = run(parser, head, data, size, &plan);
    C10K_FUZZ_CHECK(whole.error == pieces.error, c10k::proxy::describe(whole.error));
    if (whole.error == ParseError::none) {
        // After an error the count is not meaningful (nothing more is read).
        C10K_FUZZ_CHECK(whole.consumed == pieces.consumed, "consumed depends on the split");
    }
    C10K_FUZZ_CHECK(whole.heads == pieces.heads && whole.status == pieces.status,
                    "the head depends on the split");
    C10K_FUZZ_CHECK(whole.forwarded == pieces.forwarded, "the fields depend on the split");
    C10K_FUZZ_CHECK(whole.body_bytes == pieces.body_bytes && whole.body == pieces.body,
                    "the body depends on the split");
    C10K_FUZZ_CHECK(whole.complete == pieces.complete && whole.keep_alive == pieces.keep_alive,
                    "the end depends on the split");
    return 0;
}
