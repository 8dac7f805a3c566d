// The FastCGI record reader (fastcgi::RecordParser): what an application sends is trusted no
// more than a client. Whatever arrives, the parser must not crash, must not read past what it
// was given, and must reach the same verdict however recv() split the bytes.
//
// Each input is parsed twice with fresh parsers: in one piece, and in pieces chosen from the
// input's hash. Checks: both runs give the same STDOUT and STDERR bytes, the same END_REQUEST
// (or none), and the same error (or none); every piece's bytes lie within the input given; the
// input shrinks on every piece but need_more.

#include <cstdint>
#include <string>
#include <string_view>

#include "fastcgi/record_parser.hpp"
#include "fuzz_support.hpp"

namespace {

using c10k::fastcgi::Piece;
using c10k::fastcgi::RecordParser;

struct Outcome {
    std::string out;
    std::string err;
    int ends = 0;
    std::uint32_t app_status = 0;
    bool error = false;
};

Outcome run(const std::uint8_t* data, std::size_t size, c10k::fuzz::SplitPlan* plan) {
    Outcome outcome;
    RecordParser parser(1);
    const char* bytes = reinterpret_cast<const char*>(data);
    std::size_t pos = 0;
    while (pos < size && !outcome.error && outcome.ends == 0) {
        std::size_t length = plan ? plan->next(size - pos) : size - pos;
        std::string_view input(bytes + pos, length);
        for (;;) {
            std::string_view before = input;
            Piece piece = parser.next(input);
            if (piece.kind == Piece::Kind::need_more) {
                C10K_FUZZ_CHECK(input.empty(), "need_more with input left");
                break;
            }
            if (piece.kind == Piece::Kind::error) {
                C10K_FUZZ_CHECK(!parser.error().empty(), "an error without a reason");
                outcome.error = true;
                break;
            }
            if (piece.kind == Piece::Kind::stdout_data || piece.kind == Piece::Kind::stderr_data) {
                C10K_FUZZ_CHECK(piece.bytes.empty() || (piece.bytes.data() >= before.data() &&
                                                        piece.bytes.data() + piece.bytes.size() <=
                                                            before.data() + before.size()),
                                "a piece outside the input");
                (piece.kind == Piece::Kind::stdout_data ? outcome.out : outcome.err)
                    .append(piece.bytes);
            }
            if (piece.kind == Piece::Kind::end_request) {
                ++outcome.ends;
                outcome.app_status = piece.app_status;
                break;
            }
        }
        pos += length;
    }
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Outcome whole = run(data, size, nullptr);
    c10k::fuzz::SplitPlan plan(data, size);
    Outcome split = run(data, size, &plan);
    C10K_FUZZ_CHECK(whole.error == split.error, "the verdict depends on the split");
    if (whole.error) return 0;
    C10K_FUZZ_CHECK(whole.ends == split.ends, "END_REQUEST depends on the split");
    C10K_FUZZ_CHECK(whole.app_status == split.app_status, "the status depends on the split");
    // A run stops at END_REQUEST; the whole run may have seen more bytes of the same records
    // only when neither ended.
    if (whole.ends != 0) {
        C10K_FUZZ_CHECK(whole.out == split.out, "STDOUT depends on the split");
        C10K_FUZZ_CHECK(whole.err == split.err, "STDERR depends on the split");
    }
    return 0;
}
