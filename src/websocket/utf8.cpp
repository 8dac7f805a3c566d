#include "websocket/utf8.hpp"

#include <array>
#include <cstring>

namespace c10k::websocket {
namespace {

// Byte classes: bytes that every state treats alike share a class, so the transition table is
// 9 states by 13 classes instead of 9 by 256.
enum ByteClass : std::uint8_t {
    ascii,      // 00..7F
    cont_low,   // 80..8F: a continuation byte
    cont_mid,   // 90..9F: a continuation byte
    cont_high,  // A0..BF: a continuation byte
    never,      // C0, C1 (overlong 2-byte forms), F5..FF (beyond U+10FFFF)
    lead2,      // C2..DF
    lead3_e0,   // E0: the next byte must be A0..BF (else overlong)
    lead3,      // E1..EC, EE, EF
    lead3_ed,   // ED: the next byte must be 80..9F (else a surrogate)
    lead4_f0,   // F0: the next byte must be 90..BF (else overlong)
    lead4,      // F1..F3
    lead4_f4,   // F4: the next byte must be 80..8F (else beyond U+10FFFF)
    class_count,
};

// States beyond accept and reject: how many continuation bytes are still needed, and whether
// the next one is restricted.
enum State : std::uint8_t {
    accept = Utf8Validator::kAccept,
    reject = Utf8Validator::kReject,
    need1,     // one more continuation byte, any
    need2,     // two more, any
    need3,     // three more, any
    need2_e0,  // after E0
    need2_ed,  // after ED
    need3_f0,  // after F0
    need3_f4,  // after F4
    state_count,
};

constexpr std::uint8_t class_of(unsigned byte) {
    if (byte < 0x80) return ascii;
    if (byte < 0x90) return cont_low;
    if (byte < 0xA0) return cont_mid;
    if (byte < 0xC0) return cont_high;
    if (byte < 0xC2) return never;
    if (byte < 0xE0) return lead2;
    if (byte == 0xE0) return lead3_e0;
    if (byte == 0xED) return lead3_ed;
    if (byte < 0xF0) return lead3;
    if (byte == 0xF0) return lead4_f0;
    if (byte < 0xF4) return lead4;
    if (byte == 0xF4) return lead4_f4;
    return never;
}

constexpr std::uint8_t next_state(std::uint8_t state, std::uint8_t byte_class) {
    bool low = byte_class == cont_low, mid = byte_class == cont_mid, high = byte_class == cont_high;
    bool any_cont = low || mid || high;
    switch (state) {
        case accept:
            switch (byte_class) {
                case ascii:
                    return accept;
                case lead2:
                    return need1;
                case lead3_e0:
                    return need2_e0;
                case lead3:
                    return need2;
                case lead3_ed:
                    return need2_ed;
                case lead4_f0:
                    return need3_f0;
                case lead4:
                    return need3;
                case lead4_f4:
                    return need3_f4;
                default:
                    return reject;  // a stray continuation byte, or a byte never in UTF-8
            }
        case need1:
            return any_cont ? accept : reject;
        case need2:
            return any_cont ? need1 : reject;
        case need3:
            return any_cont ? need2 : reject;
        case need2_e0:
            return high ? need1 : reject;  // E0 80..9F would encode below U+0800
        case need2_ed:
            return (low || mid) ? need1 : reject;  // ED A0..BF would be U+D800..U+DFFF
        case need3_f0:
            return (mid || high) ? need2 : reject;  // F0 80..8F would encode below U+10000
        case need3_f4:
            return low ? need2 : reject;  // F4 90..BF would be above U+10FFFF
        default:
            return reject;
    }
}

// Indexed by state * 256 + byte: the byte classes folded in, so that each byte costs one
// lookup (2.3 KB, which stays in L1 cache).
constexpr auto kTransitions = [] {
    std::array<std::uint8_t, state_count * 256> table{};
    for (std::uint8_t s = 0; s < state_count; ++s) {
        for (unsigned b = 0; b < 256; ++b) table[s * 256 + b] = next_state(s, class_of(b));
    }
    return table;
}();

constexpr std::uint64_t kHighBits = 0x8080808080808080ull;

}  // namespace

bool Utf8Validator::feed(const char* data, std::size_t size) {
    auto* p = reinterpret_cast<const unsigned char*>(data);
    const unsigned char* end = p + size;
    std::uint8_t state = state_;
    while (p < end) {
        if (state == accept) {
            // Between characters, skip ASCII without the automaton (whose lookups each wait
            // for the one before): 8 bytes at a time, then byte by byte up to the next lead.
            while (end - p >= 8) {
                std::uint64_t word;
                std::memcpy(&word, p, 8);
                if ((word & kHighBits) != 0) break;
                p += 8;
            }
            while (p < end && *p < 0x80) ++p;
            if (p == end) break;
        }
        state = kTransitions[state * 256 + *p++];
        if (state == reject) break;  // fail fast, and reject is final
    }
    state_ = state;
    return state != reject;
}

bool is_valid_utf8(std::string_view text) {
    Utf8Validator validator;
    return validator.feed(text) && validator.complete();
}

}  // namespace c10k::websocket
