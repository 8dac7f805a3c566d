// The load generator's response parser (llhttp in response mode). A benchmark must never crash
// or misread a hostile or broken server; and since the bench reads whatever recv() returns,
// how the bytes are split must not change what it concludes.
//
// Each input is parsed twice, in one piece and in pieces chosen from the input's hash, with HEAD
// mode and a stop after the n-th response also chosen from the hash. Checks: both runs report
// the same responses (status and keep-alive, in order) and the same outcome; statuses are
// three digits.

#include <cstdint>
#include <string>
#include <vector>

#include "bench/response_parser.hpp"
#include "fuzz_support.hpp"

namespace {

using c10k::bench::ResponseParser;

struct Transcript {
    std::vector<int> statuses;  // status, negated when the connection does not stay open
    ResponseParser::Outcome outcome = ResponseParser::Outcome::ok;
    std::size_t stop_after = 0;

    static bool on_complete(void* context, int status, bool keep_alive) {
        auto& self = *static_cast<Transcript*>(context);
        C10K_FUZZ_CHECK(status >= 0 && status <= 999, std::to_string(status));
        self.statuses.push_back(keep_alive ? status : -status);
        return self.statuses.size() < self.stop_after;
    }
};

Transcript run(const std::uint8_t* data, std::size_t size, bool head, std::size_t stop_after,
               c10k::fuzz::SplitPlan* plan) {
    Transcript transcript;
    transcript.stop_after = stop_after;
    ResponseParser parser;
    parser.reset(head, &Transcript::on_complete, &transcript);
    std::size_t pos = 0;
    ResponseParser::Outcome outcome = ResponseParser::Outcome::ok;
    while (pos < size && outcome == ResponseParser::Outcome::ok) {
        std::size_t piece = plan ? plan->next(size - pos) : size - pos;
        outcome = parser.feed(reinterpret_cast<const char*>(data) + pos, piece);
        pos += piece;
    }
    if (outcome == ResponseParser::Outcome::ok) outcome = parser.finish();
    (void)parser.error_reason();
    transcript.outcome = outcome;
    return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    c10k::fuzz::SplitPlan plan(data, size);
    bool head = plan.below(4) == 0;
    std::size_t stop_after = 1 + plan.below(8);
    Transcript whole = run(data, size, head, stop_after, nullptr);
    Transcript pieces = run(data, size, head, stop_after, &plan);
    C10K_FUZZ_CHECK(whole.statuses == pieces.statuses, "responses depend on the split");
    C10K_FUZZ_CHECK(whole.outcome == pieces.outcome, "outcome depends on the split");
    return 0;
}
