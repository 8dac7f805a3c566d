// permessage-deflate over zlib's raw DEFLATE (negative windowBits: no zlib header or checksum,
// as RFC 7692 requires), and the negotiation of its parameters.

#include "websocket/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

namespace c10k::websocket {
namespace {

// zlib's allocator, counting the bytes each stream holds (opaque points at the owner's
// counter). Each block carries its size in a header so that the free can subtract it.
constexpr std::size_t block_header = alignof(std::max_align_t);

void* counting_alloc(void* opaque, uInt items, uInt size) {
    const std::size_t bytes = static_cast<std::size_t>(items) * size;
    auto* block = static_cast<unsigned char*>(std::malloc(block_header + bytes));
    if (block == nullptr) return nullptr;
    *reinterpret_cast<std::size_t*>(block) = bytes;
    *static_cast<std::size_t*>(opaque) += bytes;
    return block + block_header;
}

void counting_free(void* opaque, void* address) {
    if (address == nullptr) return;
    auto* block = static_cast<unsigned char*>(address) - block_header;
    *static_cast<std::size_t*>(opaque) -= *reinterpret_cast<std::size_t*>(block);
    std::free(block);
}

z_stream* new_stream(std::size_t* counter) {
    auto* stream = new z_stream{};
    stream->zalloc = counting_alloc;
    stream->zfree = counting_free;
    stream->opaque = counter;
    return stream;
}

// The empty stored block's LEN and NLEN that RFC 7692 7.2.1 strips from every message (its
// header bits are in the message's last byte).
constexpr unsigned char sync_tail[4] = {0x00, 0x00, 0xff, 0xff};

// Output is produced in steps of this size, so that the bound on a message is checked at least
// this often whatever the compression ratio.
constexpr std::size_t inflate_step = 16 * 1024;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Inflater

Inflater::Inflater(int window_bits, bool no_context_takeover)
    : window_bits_(std::clamp(window_bits, 9, 15)), no_context_takeover_(no_context_takeover) {}

Inflater::~Inflater() {
    release_stream();
}

bool Inflater::ensure_stream() {
    if (stream_ != nullptr) return true;
    stream_ = new_stream(&memory_bytes_);
    if (inflateInit2(stream_, -window_bits_) != Z_OK) {
        delete stream_;
        stream_ = nullptr;
        return false;
    }
    return true;
}

void Inflater::release_stream() {
    if (stream_ == nullptr) return;
    inflateEnd(stream_);
    delete stream_;
    stream_ = nullptr;
}

Inflater::Status Inflater::fail(Status status) {
    failed_ = status;
    return status;
}

// A DEFLATE stream ended (a block with BFINAL) and more data follows: zlib will not read past
// the end, so start a new raw stream that still sees the old window, as the peer's compressor
// does. inflateResetKeep is inflateReset without emptying the window; zlib.h declares it among
// its "undocumented functions", exported since 1.2.5.2. Copying the window out and back with
// inflateGetDictionary/inflateSetDictionary would do the same at up to 64 KB of copying per
// BFINAL block, which a peer could send every few bytes.
bool Inflater::restart_keeping_window() {
    if (inflateResetKeep(stream_) != Z_OK) return false;
    stream_ended_ = false;
    return true;
}

Inflater::Status Inflater::run(const unsigned char* data, std::size_t size, std::string& out,
                               std::size_t limit) {
    stream_->next_in = const_cast<unsigned char*>(data);  // zlib's API is not const-correct
    stream_->avail_in = static_cast<uInt>(size);
    for (;;) {
        if (stream_ended_) {
            if (stream_->avail_in == 0) return Status::ok;
            if (!restart_keeping_window()) return fail(Status::error);
        }
        // One byte more than the bound allows, so that going past it is seen. The room is
        // zero-filled by resize, so it also follows the input left: a peer sending one-byte
        // frames must not cost a 16 KB memset each. More output than that just takes more turns.
        const std::size_t room = limit > message_bytes_ ? limit - message_bytes_ : 0;
        const std::size_t for_input =
            std::max<std::size_t>(1024, 4 * std::size_t{stream_->avail_in});
        const std::size_t over = room == SIZE_MAX ? room : room + 1;  // no limit: no overflow
        const std::size_t step = std::min({inflate_step, over, for_input});
        const std::size_t old_size = out.size();
        out.resize(old_size + step);
        stream_->next_out = reinterpret_cast<unsigned char*>(out.data() + old_size);
        stream_->avail_out = static_cast<uInt>(step);
        const int rc = inflate(stream_, Z_SYNC_FLUSH);
        const std::size_t produced = step - stream_->avail_out;
        out.resize(old_size + produced);
        message_bytes_ += produced;
        if (message_bytes_ > limit) {
            out.resize(out.size() - (message_bytes_ - limit));
            return fail(Status::too_big);
        }
        if (rc == Z_STREAM_END) {
            stream_ended_ = true;
            continue;
        }
        if (rc == Z_BUF_ERROR) {
            // No progress was possible: all input is used and nothing more is pending.
            if (stream_->avail_in == 0) return Status::ok;
            return fail(Status::error);
        }
        if (rc != Z_OK) return fail(Status::error);
        if (stream_->avail_in == 0 && stream_->avail_out > 0) return Status::ok;
    }
}

Inflater::Status Inflater::feed(const char* data, std::size_t size, std::string& out,
                                std::size_t limit) {
    if (failed_ != Status::ok) return failed_;
    if (size == 0) return Status::ok;
    if (!ensure_stream()) return fail(Status::error);
    // zlib counts input in uInt; frames may be larger than 4 GB in principle.
    const auto* bytes = reinterpret_cast<const unsigned char*>(data);
    while (size > 0) {
        const std::size_t chunk = std::min<std::size_t>(size, 1u << 30);
        if (Status status = run(bytes, chunk, out, limit); status != Status::ok) return status;
        bytes += chunk;
        size -= chunk;
    }
    return Status::ok;
}

Inflater::Status Inflater::finish(std::string& out, std::size_t limit) {
    if (failed_ != Status::ok) return failed_;
    if (!ensure_stream()) return fail(Status::error);
    // A message that ended exactly with a BFINAL block needs no tail (and a new stream would
    // misread it as a stored block's header).
    if (!stream_ended_) {
        if (Status status = run(sync_tail, sizeof sync_tail, out, limit); status != Status::ok) {
            return status;
        }
        // After the tail zlib must be between blocks (data_type bit 128, "mode == TYPE"); any
        // other state means the message stopped inside a block.
        if (!stream_ended_ && (stream_->data_type & 128) == 0) return fail(Status::error);
    }
    message_bytes_ = 0;
    if (no_context_takeover_) {
        release_stream();
        stream_ended_ = false;
    } else if (stream_ended_ && !restart_keeping_window()) {
        return fail(Status::error);
    }
    return Status::ok;
}

// ---------------------------------------------------------------------------------------------
// Deflater

Deflater::Deflater(int window_bits, bool no_context_takeover)
    : window_bits_(std::clamp(window_bits, 9, 15)), no_context_takeover_(no_context_takeover) {}

Deflater::~Deflater() {
    if (stream_ == nullptr) return;
    deflateEnd(stream_);
    delete stream_;
}

bool Deflater::ensure_stream() {
    if (stream_ != nullptr) return true;
    stream_ = new_stream(&memory_bytes_);
    if (deflateInit2(stream_, deflate_level, Z_DEFLATED, -window_bits_, deflate_mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        delete stream_;
        stream_ = nullptr;
        return false;
    }
    return true;
}

bool Deflater::compress(std::string_view message, std::string& out) {
    out.clear();
    if (failed_ || !ensure_stream()) {
        failed_ = true;
        return false;
    }
    // An empty message is the header byte of an empty stored block (RFC 7692 7.2.3.6). zlib
    // would write nothing at all: after the previous message's sync flush, a second flush with
    // no input is "no progress possible" (Z_BUF_ERROR).
    if (message.empty()) {
        out.push_back('\0');
        return true;
    }
    const auto* next = reinterpret_cast<const unsigned char*>(message.data());
    std::size_t left = message.size();
    // deflateBound covers a Z_FINISH of the whole input; the sync flush adds at most an empty
    // stored block (5 bytes) and a partial byte. The loop below grows the buffer if ever needed.
    out.resize(deflateBound(stream_, static_cast<uLong>(std::min<std::size_t>(left, 1u << 30))) +
               16);
    std::size_t used = 0;
    for (;;) {
        const std::size_t chunk = std::min<std::size_t>(left, 1u << 30);
        stream_->next_in = const_cast<unsigned char*>(next);  // zlib's API is not const-correct
        stream_->avail_in = static_cast<uInt>(chunk);
        const int flush = chunk == left ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        for (;;) {
            if (used == out.size()) out.resize(out.size() * 2);
            const std::size_t space = std::min<std::size_t>(out.size() - used, 1u << 30);
            stream_->next_out = reinterpret_cast<unsigned char*>(out.data() + used);
            stream_->avail_out = static_cast<uInt>(space);
            const int rc = deflate(stream_, flush);
            used += space - stream_->avail_out;
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                failed_ = true;
                out.clear();
                return false;
            }
            // Done with this chunk when zlib had room to spare: all input taken, flush complete.
            if (stream_->avail_out > 0 && stream_->avail_in == 0) break;
        }
        next += chunk;
        left -= chunk;
        if (left == 0) break;
    }
    out.resize(used);
    // A sync flush always ends with the empty stored block's LEN and NLEN, which the peer
    // appends back (RFC 7692 7.2.1).
    if (out.size() < sizeof sync_tail ||
        !std::equal(std::begin(sync_tail), std::end(sync_tail),
                    reinterpret_cast<const unsigned char*>(out.data()) + out.size() - 4)) {
        failed_ = true;
        out.clear();
        return false;
    }
    out.resize(out.size() - sizeof sync_tail);
    if (no_context_takeover_ && deflateReset(stream_) != Z_OK) {
        failed_ = true;
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Negotiation (RFC 6455 9.1 for the list syntax, RFC 7692 7.1 for the parameters)

namespace {

struct ExtensionParam {
    std::string name;
    std::optional<std::string> value;
};

struct Extension {
    std::string name;
    std::vector<ExtensionParam> params;
};

bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

// A cursor over one header value; each read_* returns false on a syntax error.
class ListReader {
public:
    explicit ListReader(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ == text_.size(); }
    char peek() const { return text_[pos_]; }
    void skip() { ++pos_; }
    void skip_ows() {
        while (!at_end() && (peek() == ' ' || peek() == '\t')) ++pos_;
    }

    bool read_token(std::string& out) {
        const std::size_t start = pos_;
        while (!at_end() && is_tchar(peek())) ++pos_;
        out.assign(text_.substr(start, pos_ - start));
        return !out.empty();
    }

    // quoted-string (RFC 9110 5.6.4), unescaped into `out`.
    bool read_quoted(std::string& out) {
        out.clear();
        ++pos_;  // the opening quote
        while (!at_end()) {
            const auto c = static_cast<unsigned char>(text_[pos_++]);
            if (c == '"') return true;
            if (c == '\\') {
                if (at_end()) return false;
                const auto escaped = static_cast<unsigned char>(text_[pos_++]);
                if (escaped < 0x20 && escaped != '\t') return false;
                if (escaped == 0x7f) return false;
                out.push_back(static_cast<char>(escaped));
                continue;
            }
            if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
            out.push_back(static_cast<char>(c));
        }
        return false;  // unterminated
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// extension-list = 1#( extension-token *( ";" extension-param ) ), where a param is
// token [ "=" ( token | quoted-string ) ] and a quoted value must unescape to a token. Empty list
// elements are skipped (RFC 9110 5.6.1). Nothing on any syntax error.
std::optional<std::vector<Extension>> parse_extension_list(std::string_view text) {
    std::vector<Extension> list;
    ListReader reader(text);
    for (;;) {
        reader.skip_ows();
        if (reader.at_end()) return list;
        if (reader.peek() == ',') {
            reader.skip();
            continue;
        }
        Extension extension;
        if (!reader.read_token(extension.name)) return std::nullopt;
        for (;;) {
            reader.skip_ows();
            if (reader.at_end() || reader.peek() == ',') break;
            if (reader.peek() != ';') return std::nullopt;
            reader.skip();
            reader.skip_ows();
            ExtensionParam param;
            if (!reader.read_token(param.name)) return std::nullopt;
            reader.skip_ows();
            if (!reader.at_end() && reader.peek() == '=') {
                reader.skip();
                reader.skip_ows();
                std::string value;
                if (reader.at_end()) return std::nullopt;
                if (reader.peek() == '"') {
                    if (!reader.read_quoted(value)) return std::nullopt;
                    if (value.empty() || !std::all_of(value.begin(), value.end(), is_tchar)) {
                        return std::nullopt;
                    }
                } else if (!reader.read_token(value)) {
                    return std::nullopt;
                }
                param.value = std::move(value);
            }
            extension.params.push_back(std::move(param));
        }
        list.push_back(std::move(extension));
    }
}

// Window bits: 1*DIGIT with a value of 8..15 (RFC 7692 7.1.2).
std::optional<int> parse_window_bits(std::string_view value) {
    if (value.empty() || value.size() > 4) return std::nullopt;
    int bits = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        bits = bits * 10 + (c - '0');
    }
    if (bits < 8 || bits > 15) return std::nullopt;
    return bits;
}

// The permessage-deflate parameters of one offer or answer, checked for what RFC 7692 7.1 calls
// a declined offer: an unknown parameter, a duplicate, or an invalid value.
struct DeflateRequest {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    std::optional<int> server_max_window_bits;
    bool client_max_window_bits_present = false;
    std::optional<int> client_max_window_bits;
};

// `in_answer`: client_max_window_bits must then have a value (only an offer may leave it out).
std::optional<DeflateRequest> read_deflate_params(const Extension& extension, bool in_answer) {
    DeflateRequest request;
    bool seen[4] = {};
    for (const ExtensionParam& param : extension.params) {
        int index;
        if (iequals(param.name, "server_no_context_takeover")) {
            index = 0;
            if (param.value) return std::nullopt;
            request.server_no_context_takeover = true;
        } else if (iequals(param.name, "client_no_context_takeover")) {
            index = 1;
            if (param.value) return std::nullopt;
            request.client_no_context_takeover = true;
        } else if (iequals(param.name, "server_max_window_bits")) {
            index = 2;
            if (!param.value) return std::nullopt;
            request.server_max_window_bits = parse_window_bits(*param.value);
            if (!request.server_max_window_bits) return std::nullopt;
        } else if (iequals(param.name, "client_max_window_bits")) {
            index = 3;
            request.client_max_window_bits_present = true;
            if (param.value) {
                request.client_max_window_bits = parse_window_bits(*param.value);
                if (!request.client_max_window_bits) return std::nullopt;
            } else if (in_answer) {
                return std::nullopt;
            }
        } else {
            return std::nullopt;
        }
        if (seen[index]) return std::nullopt;
        seen[index] = true;
    }
    return request;
}

constexpr std::string_view extension_name = "permessage-deflate";

std::string format_params(const DeflateParams& params, bool answer_server_bits,
                          bool answer_client_bits) {
    std::string value(extension_name);
    if (params.server_no_context_takeover) value += "; server_no_context_takeover";
    if (params.client_no_context_takeover) value += "; client_no_context_takeover";
    if (answer_server_bits) {
        value += "; server_max_window_bits=" + std::to_string(params.server_max_window_bits);
    }
    if (answer_client_bits) {
        value += "; client_max_window_bits=" + std::to_string(params.client_max_window_bits);
    }
    return value;
}

}  // namespace

std::optional<DeflateAgreement> negotiate_deflate(std::string_view extensions_header_values,
                                                  const DeflatePolicy& policy) {
    if (!policy.enabled) return std::nullopt;
    const auto list = parse_extension_list(extensions_header_values);
    if (!list) return std::nullopt;
    const int server_limit = std::clamp(policy.server_max_window_bits, 9, 15);
    const int client_limit = std::clamp(policy.client_max_window_bits, 8, 15);
    for (const Extension& extension : *list) {
        if (!iequals(extension.name, extension_name)) continue;
        const auto offer = read_deflate_params(extension, /*in_answer=*/false);
        if (!offer) continue;
        DeflateAgreement agreement;
        DeflateParams& params = agreement.params;
        params.server_no_context_takeover =
            offer->server_no_context_takeover || policy.server_no_context_takeover;
        params.client_no_context_takeover =
            offer->client_no_context_takeover || policy.client_no_context_takeover;
        params.server_max_window_bits = server_limit;
        if (offer->server_max_window_bits) {
            // zlib cannot compress within 256 bytes, and the client demanded it: decline.
            if (*offer->server_max_window_bits < 9) continue;
            params.server_max_window_bits =
                std::min(params.server_max_window_bits, *offer->server_max_window_bits);
        }
        // The client's window may only be limited when its offer says it can be.
        params.client_max_window_bits = 15;
        if (offer->client_max_window_bits_present) {
            params.client_max_window_bits =
                std::min(offer->client_max_window_bits.value_or(15), client_limit);
        }
        const bool answer_server_bits =
            offer->server_max_window_bits.has_value() || params.server_max_window_bits < 15;
        const bool answer_client_bits = params.client_max_window_bits < 15;
        agreement.response = format_params(params, answer_server_bits, answer_client_bits);
        return agreement;
    }
    return std::nullopt;
}

std::string make_deflate_offer(const DeflateParams& wanted) {
    std::string value(extension_name);
    if (wanted.server_no_context_takeover) value += "; server_no_context_takeover";
    if (wanted.client_no_context_takeover) value += "; client_no_context_takeover";
    const int server_bits = std::clamp(wanted.server_max_window_bits, 8, 15);
    if (server_bits < 15) value += "; server_max_window_bits=" + std::to_string(server_bits);
    const int client_bits = std::clamp(wanted.client_max_window_bits, 9, 15);
    value += "; client_max_window_bits";
    if (client_bits < 15) value += "=" + std::to_string(client_bits);
    return value;
}

DeflateAnswer check_deflate_answer(std::string_view extensions_header_values,
                                   const DeflateParams& offered) {
    const DeflateAnswer invalid{false, std::nullopt};
    const auto list = parse_extension_list(extensions_header_values);
    if (!list) return invalid;
    if (list->empty()) return DeflateAnswer{};  // declined
    // Only one extension was offered, once.
    if (list->size() != 1 || !iequals(list->front().name, extension_name)) return invalid;
    const auto answer = read_deflate_params(list->front(), /*in_answer=*/true);
    if (!answer) return invalid;

    DeflateParams agreed;
    const int offered_server_bits = std::clamp(offered.server_max_window_bits, 8, 15);
    const int offered_client_bits = std::clamp(offered.client_max_window_bits, 9, 15);
    // What the client asked of the server's compressor must be granted in the answer.
    if (offered.server_no_context_takeover && !answer->server_no_context_takeover) return invalid;
    agreed.server_no_context_takeover = answer->server_no_context_takeover;
    if (offered_server_bits < 15 && !answer->server_max_window_bits) return invalid;
    agreed.server_max_window_bits = answer->server_max_window_bits.value_or(15);
    if (agreed.server_max_window_bits > offered_server_bits) return invalid;
    // The client keeps what it promised in its offer, whatever the answer says.
    agreed.client_no_context_takeover =
        answer->client_no_context_takeover || offered.client_no_context_takeover;
    agreed.client_max_window_bits = answer->client_max_window_bits.value_or(offered_client_bits);
    if (agreed.client_max_window_bits > offered_client_bits) return invalid;
    // A server may ask for 8, which zlib cannot compress within: fail rather than break it.
    if (agreed.client_max_window_bits < 9) return invalid;
    return DeflateAnswer{true, agreed};
}

}  // namespace c10k::websocket
