#include "websocket/close_code.hpp"

#include "websocket/utf8.hpp"

namespace c10k::websocket {

bool is_valid_close_code(std::uint16_t code) {
    if (code >= 3000 && code <= 4999) return true;
    if (code < 1000 || code > 1014) return false;
    return code != 1004 && code != close_code::no_status && code != close_code::abnormal;
}

std::uint16_t parse_close_payload(std::string_view payload, CloseFrame& out) {
    out = CloseFrame{};
    if (payload.empty()) return 0;
    if (payload.size() == 1) return close_code::protocol_error;
    auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                           static_cast<unsigned char>(payload[1]));
    if (!is_valid_close_code(code)) return close_code::protocol_error;
    std::string_view reason = payload.substr(2);
    if (!is_valid_utf8(reason)) return close_code::invalid_payload;
    out.code = code;
    out.reason = reason;
    return 0;
}

void append_close_payload(std::string& out, std::uint16_t code, std::string_view reason) {
    if (reason.size() > kMaxCloseReason) {
        std::size_t cut = kMaxCloseReason;
        // Back up over continuation bytes so that no character is cut in half.
        while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
        reason = reason.substr(0, cut);
    }
    out.push_back(static_cast<char>(code >> 8));
    out.push_back(static_cast<char>(code & 0xFF));
    out.append(reason);
}

}  // namespace c10k::websocket
