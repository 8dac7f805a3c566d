#include "push/ws_format.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "core/json.hpp"
#include "push/names.hpp"
#include "websocket/utf8.hpp"

namespace c10k::push {

namespace {

void append_number(std::string& out, std::uint64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, end);
}

/// `text` with every byte that does not start a valid UTF-8 sequence replaced by U+FFFD.
std::string lossy_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    std::size_t i = 0;
    while (i < text.size()) {
        // The longest valid sequence at i is at most 4 bytes: try 1..4.
        std::size_t taken = 0;
        for (std::size_t n = 1; n <= 4 && i + n <= text.size(); ++n) {
            if (websocket::is_valid_utf8(text.substr(i, n))) {
                taken = n;
                break;
            }
        }
        if (taken == 0) {
            out.append("\xEF\xBF\xBD");
            ++i;
        } else {
            out.append(text.substr(i, taken));
            i += taken;
        }
    }
    return out;
}

void append_quoted_text(std::string& out, std::string_view text) {
    if (websocket::is_valid_utf8(text)) {
        out.append(core::json_quote(text));
    } else {
        out.append(core::json_quote(lossy_utf8(text)));
    }
}

}  // namespace

void append_ws_event(std::string& out, std::string_view channel, const Message& message) {
    out.append("{\"channel\":");
    out.append(core::json_quote(channel));
    out.append(",\"id\":\"");
    append_number(out, message.id);
    out.append("\"");
    if (!message.event.empty()) {
        out.append(",\"event\":");
        out.append(core::json_quote(message.event));
    }
    out.append(",\"data\":");
    append_quoted_text(out, message.data);
    out.append("}");
}

void append_ws_history_lost(std::string& out, std::string_view channel, std::uint64_t requested,
                            std::uint64_t first_held) {
    out.append("{\"channel\":");
    out.append(core::json_quote(channel));
    out.append(",\"event\":\"history-lost\",\"data\":{\"last_event_id\":\"");
    append_number(out, requested);
    out.append("\",\"first_available\":\"");
    if (first_held != 0) append_number(out, first_held);
    out.append("\"}}");
}

void append_ws_subscribed(std::string& out, std::string_view channel, std::uint64_t last_id) {
    out.append("{\"channel\":");
    out.append(core::json_quote(channel));
    out.append(",\"event\":\"subscribed\"");
    if (last_id != 0) {
        out.append(",\"last_id\":\"");
        append_number(out, last_id);
        out.append("\"");
    }
    out.append("}");
}

void append_ws_unsubscribed(std::string& out, std::string_view channel) {
    out.append("{\"channel\":");
    out.append(core::json_quote(channel));
    out.append(",\"event\":\"unsubscribed\"}");
}

void append_ws_error(std::string& out, std::string_view error) {
    out.append("{\"error\":");
    out.append(core::json_quote(error));
    out.append("}");
}

bool parse_ws_command(std::string_view text, WsCommand& command, std::string& error) {
    // No exceptions: a malformed document comes back discarded.
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        error =
            "a command is a JSON object: {\"subscribe\":\"CHANNEL\"} or "
            "{\"unsubscribe\":\"CHANNEL\"}";
        return false;
    }
    auto subscribe = doc.find("subscribe");
    auto unsubscribe = doc.find("unsubscribe");
    if ((subscribe == doc.end()) == (unsubscribe == doc.end())) {
        error = "a command has exactly one of \"subscribe\" and \"unsubscribe\"";
        return false;
    }
    auto name = subscribe != doc.end() ? subscribe : unsubscribe;
    if (!name->is_string() || !valid_channel_name(name->get_ref<const std::string&>())) {
        error = "bad channel name: use 1-128 of A-Z a-z 0-9 . _ ~ : @ - (not . or ..)";
        return false;
    }
    command.kind =
        subscribe != doc.end() ? WsCommand::Kind::subscribe : WsCommand::Kind::unsubscribe;
    command.channel = name->get<std::string>();
    command.last_event_id.reset();
    auto last = doc.find("last_event_id");
    if (last != doc.end()) {
        if (last->is_string()) {
            command.last_event_id = parse_event_id(last->get_ref<const std::string&>());
        } else if (last->is_number_unsigned()) {
            command.last_event_id = last->get<std::uint64_t>();
        }
    }
    return true;
}

}  // namespace c10k::push
