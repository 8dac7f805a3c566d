// The PROXY protocol reader (core::ProxyHeaderParser) and the trusted-address list
// (core::AddressSet). A PROXY header comes from a trusted balancer, but a balancer can be
// misconfigured and the first bytes of a connection can be anyone's: whatever arrives, the
// parser must not crash, must not read past what it was given, must not claim more bytes than
// the header's limit, and must reach the same verdict however recv() split the bytes.
//
// Each input is parsed twice with one parser (reset in between): in one piece, and in pieces
// chosen from the input's hash. Checks: both runs agree on the status, the header's size and
// addresses; no piece consumes more than it was given; a header fits its limit and the input;
// detect_proxy_header's not_proxy means the parser refused it too; addresses read are written
// back by the matching writer and read again unchanged. The input (when short) is also tried
// as an AddressSet entry: if accepted, its own network address must be in the set.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/address_set.hpp"
#include "core/proxy_protocol.hpp"
#include "fuzz_support.hpp"

namespace {

using c10k::core::ProxyHeader;
using c10k::core::ProxyHeaderParser;
using Status = ProxyHeaderParser::Status;

struct Outcome {
    Status status = Status::need_more;
    std::size_t consumed = 0;
    ProxyHeader header;
};

Outcome run(ProxyHeaderParser& parser, const std::uint8_t* data, std::size_t size,
            c10k::fuzz::SplitPlan* plan) {
    Outcome outcome;
    parser.reset();
    const char* bytes = reinterpret_cast<const char*>(data);
    std::size_t pos = 0;
    while (pos < size) {
        std::size_t piece = plan ? plan->next(size - pos) : size - pos;
        outcome.status = parser.feed(bytes + pos, piece);
        C10K_FUZZ_CHECK(outcome.status == parser.status(), "status() disagrees");
        if (outcome.status == Status::invalid) {
            C10K_FUZZ_CHECK(parser.error()[0] != '\0', "refused without a reason");
            break;
        }
        C10K_FUZZ_CHECK(parser.consumed() <= piece, "consumed more than given");
        outcome.consumed += parser.consumed();
        if (outcome.status == Status::done) break;
        C10K_FUZZ_CHECK(parser.consumed() == piece, "an unfinished header left bytes unread");
        pos += piece;
    }
    if (outcome.status == Status::need_more) {
        C10K_FUZZ_CHECK(size < ProxyHeaderParser::max_header_size, "waits past the limit");
    }
    if (outcome.status == Status::done) {
        const ProxyHeader& header = parser.header();
        C10K_FUZZ_CHECK(outcome.consumed == header.size, "consumed is not the header's size");
        C10K_FUZZ_CHECK(header.size <= size, "a header larger than the input");
        C10K_FUZZ_CHECK(header.size <= ProxyHeaderParser::max_header_size, "over the limit");
        C10K_FUZZ_CHECK(header.version == 1 || header.version == 2, "no version");
        C10K_FUZZ_CHECK(!(header.local && header.has_addresses), "LOCAL with addresses");
        if (header.version == 1) {
            C10K_FUZZ_CHECK(header.size <= ProxyHeaderParser::max_v1_size, "v1 over 107 bytes");
        }
        outcome.header = header;
    }
    return outcome;
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Writes the addresses with the writer of the header's version and reads them back.
void check_round_trip(const ProxyHeader& header) {
    std::string written;
    if (header.version == 1) {
        c10k::core::append_proxy_v1(header.source, header.destination, written);
    } else {
        c10k::core::append_proxy_v2(header.source, header.destination, written);
    }
    ProxyHeaderParser parser;
    C10K_FUZZ_CHECK(parser.feed(written.data(), written.size()) == Status::done,
                    std::string(parser.error()) + " in " + written);
    C10K_FUZZ_CHECK(parser.header().size == written.size(), written);
    C10K_FUZZ_CHECK(parser.header().has_addresses, written);
    C10K_FUZZ_CHECK(same_address(parser.header().source, header.source), written);
    C10K_FUZZ_CHECK(same_address(parser.header().destination, header.destination), written);
}

/// The input as one AddressSet entry; one that is accepted contains its own network address.
void check_address_entry(const std::uint8_t* data, std::size_t size) {
    if (size > 64) return;
    std::string entry(reinterpret_cast<const char*>(data), size);
    c10k::core::AddressSet set;
    std::string error;
    if (!set.add(entry, error)) {
        C10K_FUZZ_CHECK(!error.empty() && set.empty(), "refused without a reason");
        return;
    }
    C10K_FUZZ_CHECK(set.size() == 1, entry);
    std::string address = entry.substr(0, entry.find('/'));
    sockaddr_storage peer{};
    if (inet_pton(AF_INET, address.c_str(), &reinterpret_cast<sockaddr_in&>(peer).sin_addr) == 1) {
        peer.ss_family = AF_INET;
    } else {
        C10K_FUZZ_CHECK(inet_pton(AF_INET6, address.c_str(),
                                  &reinterpret_cast<sockaddr_in6&>(peer).sin6_addr) == 1,
                        entry);
        peer.ss_family = AF_INET6;
    }
    C10K_FUZZ_CHECK(set.contains(peer), entry);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    c10k::fuzz::SplitPlan plan(data, size);
    ProxyHeaderParser parser;
    Outcome whole = run(parser, data, size, nullptr);
    Outcome pieces = run(parser, data, size, &plan);
    C10K_FUZZ_CHECK(whole.status == pieces.status, "the verdict depends on the split");
    if (whole.status == Status::done) {
        C10K_FUZZ_CHECK(whole.header.size == pieces.header.size, "the size depends on the split");
        C10K_FUZZ_CHECK(whole.header.local == pieces.header.local &&
                            whole.header.has_addresses == pieces.header.has_addresses &&
                            same_address(whole.header.source, pieces.header.source) &&
                            same_address(whole.header.destination, pieces.header.destination),
                        "the addresses depend on the split");
        if (whole.header.has_addresses) check_round_trip(whole.header);
    }
    if (c10k::core::detect_proxy_header(reinterpret_cast<const char*>(data), size) ==
        c10k::core::ProxyDetection::not_proxy) {
        C10K_FUZZ_CHECK(whole.status == Status::invalid, "not a header, yet not refused");
    }
    check_address_entry(data, size);
    return 0;
}
