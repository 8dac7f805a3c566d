#include "http/session.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <utility>

#include "core/handover.hpp"
#include "http/access_log.hpp"

namespace c10k::http {

// llhttp calls plain C functions with the parser; these trampolines find the Session in
// parser->data. A struct, so that it can be the Session's friend.
struct SessionCallbacks {
    static Session& of(llhttp_t* parser) { return *static_cast<Session*>(parser->data); }
    static int message_begin(llhttp_t* p) { return of(p).on_message_begin(); }
    static int url(llhttp_t* p, const char* at, std::size_t n) { return of(p).on_url(at, n); }
    static int header_field(llhttp_t* p, const char* at, std::size_t n) {
        return of(p).on_header_field(at, n);
    }
    static int header_value(llhttp_t* p, const char* at, std::size_t n) {
        return of(p).on_header_value(at, n);
    }
    static int headers_complete(llhttp_t* p) { return of(p).on_headers_complete(); }
    static int body(llhttp_t* p, const char* at, std::size_t n) { return of(p).on_body(at, n); }
    static int message_complete(llhttp_t* p) { return of(p).on_message_complete(); }

    static const llhttp_settings_t& settings() {
        static const llhttp_settings_t instance = [] {
            llhttp_settings_t s;
            llhttp_settings_init(&s);
            s.on_message_begin = message_begin;
            s.on_url = url;
            s.on_header_field = header_field;
            s.on_header_value = header_value;
            s.on_headers_complete = headers_complete;
            s.on_body = body;
            s.on_message_complete = message_complete;
            return s;
        }();
        return instance;
    }
};

namespace {

Method method_of(llhttp_method_t method) {
    switch (method) {
        case HTTP_GET:
            return Method::get;
        case HTTP_HEAD:
            return Method::head;
        case HTTP_POST:
            return Method::post;
        case HTTP_PUT:
            return Method::put;
        case HTTP_DELETE:
            return Method::delete_;
        case HTTP_OPTIONS:
            return Method::options;
        case HTTP_PATCH:
            return Method::patch;
        case HTTP_TRACE:
            return Method::trace;
        case HTTP_CONNECT:
            return Method::connect;
        default:
            return Method::other;
    }
}

// Bodies up to this size are copied into the head's buffer rather than queued apart.
constexpr std::uint64_t kCoalesceBodyBytes = 4096;

void append_number(std::string& out, std::uint64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out.append(digits, end);
}

std::string error_page(int status) {
    std::string body = "<html><head><title>";
    append_number(body, static_cast<std::uint64_t>(status));
    body += ' ';
    body += reason_phrase(status);
    body += "</title></head><body><h1>";
    append_number(body, static_cast<std::uint64_t>(status));
    body += ' ';
    body += reason_phrase(status);
    body += "</h1></body></html>\n";
    return body;
}

}  // namespace

Session::Session(LoopContext& context) : context_(context) {
    llhttp_init(&parser_, HTTP_REQUEST, &SessionCallbacks::settings());
    parser_.data = this;
    phase_started_ms_ = context_.now_ms();
    context_.count(&LoopMetrics::connections_opened);
}

Session::~Session() {
    abandon();
    context_.count(&LoopMetrics::connections_closed);
    if (scratch_) context_.return_scratch(std::move(scratch_));
}

void Session::ensure_scratch() {
    if (!scratch_) scratch_ = context_.borrow_scratch();
}

void Session::maybe_release_scratch() {
    // A subscriber waiting for its next message holds no scratch either: 100,000 of them must
    // not pin 100,000 request buffers.
    if (scratch_ && !in_message_ && !has_output() && (!paused_ || suspended()) &&
        scratch_->pending_input.empty() && scratch_->body.empty()) {
        context_.return_scratch(std::move(scratch_));
    }
}

void Session::feed(const char* data, std::size_t size) {
    if (input_closed_ || stop_parsing_ || size == 0) return;
    context_.count(&LoopMetrics::bytes_received, size);
    if (suspend_ == Suspend::upgraded) {
        // Another protocol's bytes: its owner parses them, keeping what it needs itself.
        static_cast<UpgradedOwner*>(owner_)->on_upgraded_input(data, size);
        return;
    }
    if (in_message_ && headers_done_) phase_started_ms_ = context_.now_ms();  // body progress
    ensure_scratch();
    if (expect_proxy_header_) {
        std::size_t used = read_proxy_header(data, size);
        if (used == SIZE_MAX || used == size) return;
        data += used;
        size -= used;
    }
    if (paused_) {
        // The engine should not read while paused, but nothing is lost if it does.
        scratch_->pending_input.append(data, size);
        return;
    }
    execute(data, size);
    maybe_release_scratch();
}

std::size_t Session::read_proxy_header(const char* data, std::size_t size) {
    Scratch& s = *scratch_;
    if (!s.proxy_header) s.proxy_header = std::make_unique<core::ProxyHeaderParser>();
    core::ProxyHeaderParser& parser = *s.proxy_header;
    switch (parser.feed(data, size)) {
        case core::ProxyHeaderParser::Status::need_more:
            phase_started_ms_ = context_.now_ms();  // the header timeout runs from here
            in_message_ = true;
            return size;
        case core::ProxyHeaderParser::Status::invalid:
            // A trusted balancer always sends one; without it the addresses are unknown, and
            // a client that got past the balancer could claim any address it liked.
            fail(400);
            return SIZE_MAX;
        case core::ProxyHeaderParser::Status::done:
            break;
    }
    expect_proxy_header_ = false;
    in_message_ = false;
    if (parser.header().has_addresses) peer_ = core::address_text(parser.header().source);
    std::size_t used = parser.consumed();
    s.proxy_header.reset();
    return used;
}

void Session::execute(const char* data, std::size_t size) {
    scratch_->input_start = data;
    llhttp_errno_t rc = llhttp_execute(&parser_, data, size);
    // Where a header value that continues into the next input began matters to the obs-fold
    // check (on_header_value): note whether this input ended at a line break plus blanks.
    const char* end = data + size;
    while (end > data && (end[-1] == ' ' || end[-1] == '\t')) --end;
    if (end > data) input_ends_in_line_break_ = end[-1] == '\n';
    if (rc == HPE_OK) return;
    if (rc == HPE_PAUSED) {
        llhttp_resume(&parser_);
        if (stop_parsing_) return;  // Connection: close; the rest is not read
        // Output backlog: keep the unparsed rest until the client reads what is queued.
        const char* at = llhttp_get_error_pos(&parser_);
        std::string rest(at, data + size - at);
        scratch_->pending_input = std::move(rest);
        paused_ = true;
        // The handler switched protocols: what followed the request is the new protocol's.
        if (suspend_ == Suspend::upgraded) deliver_upgraded_input();
        return;
    }
    if (rc == HPE_PAUSED_UPGRADE) {
        if (suspend_ == Suspend::upgraded) {
            const char* at = llhttp_get_error_pos(&parser_);
            scratch_->pending_input.assign(at, data + size - at);
            deliver_upgraded_input();
            return;
        }
        if (suspend_ == Suspend::waiting) {
            // The handler decides later (a proxy waits for the backend's 101): the bytes after
            // the request are held, the new protocol's if it switches. Any other answer closes
            // the connection (pending_begin made it so).
            const char* at = llhttp_get_error_pos(&parser_);
            scratch_->pending_input.assign(at, data + size - at);
            paused_ = true;
            return;
        }
        // The handler did not switch protocols: the request was answered as a plain one, and
        // the connection ends so that no bytes of another protocol are misread as HTTP.
        stop_parsing_ = true;
        return;
    }
    fail(error_status_ != 0 ? error_status_ : 400);
}

void Session::fail(int status) {
    if (stop_parsing_) return;
    context_.count(&LoopMetrics::protocol_errors);
    if (suspended()) {
        // A streamed body went wrong (a bad chunk, past the size limit) after its handler took
        // the request: the handler hears that the client is gone, and the client gets the
        // error, unless an answer has begun (then the cut is the only honest end).
        bool answer_begun = suspend_ != Suspend::waiting;
        end_pending(true);
        if (answer_begun) {
            aborted_ = true;
            failed_ = true;
            stop_parsing_ = true;
            in_message_ = false;
            return;
        }
    }
    Response& response = context_.response();
    response.clear();
    response.set_status(status);
    response.add_header("Content-Type", "text/html; charset=utf-8");
    response.set_body(error_page(status));
    response.close_connection();
    Request request;  // only its method matters for queue_response; GET sends the body
    request.method = Method::get;
    request.keep_alive = false;
    queue_response(request, response);
    failed_ = true;
    stop_parsing_ = true;
    in_message_ = false;
}

void Session::on_peer_closed() {
    input_closed_ = true;
    if (suspended()) {
        // The client left while its response was deferred: nobody will read it (as nginx
        // without proxy_ignore_client_abort). The owner forgets it; the connection closes.
        end_pending(true);
        aborted_ = true;
        return;
    }
    // Pipelined requests held back for output are still answered (a client may send them all
    // and shut down its side); a request cut short by the close is dropped.
    if (!paused_) in_message_ = false;
    maybe_release_scratch();
}

void Session::request_close() {
    close_requested_ = true;
    if (suspend_ == Suspend::upgraded) {
        // Only the other protocol knows how to say goodbye; it finishes when it has.
        static_cast<UpgradedOwner*>(owner_)->on_upgraded_stop();
        return;
    }
    if (suspend_ == Suspend::waiting) {
        // Server stop: a deferred answer will not come. Say so, rather than cut the client off.
        deferred_->keep_alive = false;
        Response response;
        response.set_status(503);
        response.add_header("Retry-After", "1");
        response.add_header("Content-Type", "text/plain; charset=utf-8");
        response.set_body("server stopping\n");
        PendingOwner* owner = owner_;
        pending_respond(response);
        if (owner != nullptr) owner->on_pending_closed();
        return;
    }
    if (suspend_ == Suspend::streaming) {
        deferred_->keep_alive = false;
        PendingOwner* owner = owner_;
        if (owner != nullptr) owner->on_pending_stopping();
        pending_finish();
        if (owner != nullptr) owner->on_pending_closed();
        return;
    }
    // A drain for a successor (a reload or an upgrade): an idle keep-alive connection stays
    // open until its next response, which says Connection: close, or until its idle timeout or
    // the shutdown grace ends. Closing it now would race a request the client is sending (the
    // client sees its request cut off); after a response, no request can be on its way.
    if (core::handover_draining()) return;
    if (!in_message_ && !has_output() && !paused_) stop_parsing_ = true;
}

int Session::on_message_begin() {
    in_message_ = true;
    headers_done_ = false;
    in_header_value_ = false;
    url_length_ = 0;
    body_bytes_ = 0;
    error_status_ = 0;
    body_streamed_ = false;
    body_complete_ = false;
    body_paused_ = false;
    continue_wanted_ = false;
    phase_started_ms_ = context_.now_ms();
    scratch_->reset_request();
    return 0;
}

int Session::on_url(const char* at, std::size_t length) {
    url_length_ += static_cast<std::uint32_t>(length);
    if (url_length_ > context_.limits().max_uri_bytes) {
        error_status_ = 414;
        return -1;
    }
    scratch_->text.append(at, length);
    return 0;
}

int Session::on_header_field(const char* at, std::size_t length) {
    Scratch& s = *scratch_;
    if (s.headers.empty() || in_header_value_) {
        if (s.headers.size() >= context_.limits().max_headers) {
            error_status_ = 431;
            return -1;
        }
        auto offset = static_cast<std::uint32_t>(s.text.size());
        s.headers.push_back({offset, 0, offset, 0});
        in_header_value_ = false;
    }
    if (s.text.size() + length + 4 * s.headers.size() > context_.limits().max_header_bytes) {
        error_status_ = 431;
        return -1;
    }
    s.text.append(at, length);
    s.headers.back().name_length += static_cast<std::uint32_t>(length);
    s.headers.back().value_offset = static_cast<std::uint32_t>(s.text.size());
    return 0;
}

int Session::on_header_value(const char* at, std::size_t length) {
    Scratch& s = *scratch_;
    in_header_value_ = true;
    if (length > 0 && continues_a_folded_line(at)) {
        // obs-fold (RFC 9112 section 5.2): llhttp joins the lines, but another parser may
        // read the continuation as a header of its own. Refused rather than normalised, as a
        // server a proxy forwards to must (the proxy would otherwise pass a smuggled field).
        error_status_ = 400;
        return -1;
    }
    if (s.text.size() + length + 4 * s.headers.size() > context_.limits().max_header_bytes) {
        error_status_ = 431;
        return -1;
    }
    s.text.append(at, length);
    s.headers.back().value_length += static_cast<std::uint32_t>(length);
    return 0;
}

bool Session::continues_a_folded_line(const char* at) const {
    // A value's first byte follows the colon and optional blanks; a folded continuation's
    // follows a line break and blanks. The blanks may reach back into the previous input.
    const char* start = scratch_->input_start;
    const char* p = at;
    while (p > start && (p[-1] == ' ' || p[-1] == '\t')) --p;
    return p > start ? p[-1] == '\n' : input_ends_in_line_break_;
}

int Session::on_headers_complete() {
    headers_done_ = true;
    phase_started_ms_ = context_.now_ms();
    Scratch& s = *scratch_;
    // Host: exactly one in HTTP/1.1 (RFC 9112 section 3.2), at most one in HTTP/1.0.
    int hosts = 0;
    bool expect_continue = false;
    for (const auto& h : s.headers) {
        std::string_view name(s.text.data() + h.name_offset, h.name_length);
        std::string_view value(s.text.data() + h.value_offset, h.value_length);
        if (iequals(name, "host")) ++hosts;
        if (iequals(name, "expect")) {
            if (!iequals(value, "100-continue")) {
                error_status_ = 417;
                return -1;
            }
            expect_continue = true;
        }
    }
    bool http11 = parser_.http_major == 1 && parser_.http_minor >= 1;
    if (hosts > 1 || (http11 && hosts == 0)) {
        error_status_ = 400;
        return -1;
    }
    bool has_body = (parser_.flags & F_CHUNKED) ||
                    ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > 0);
    // Asked only when a body comes: a GET costs no virtual call. An Upgrade request's body is
    // read whole: what follows it is the other protocol's.
    bool stream = has_body && parser_.upgrade == 0 && context_.handler().streams_body(listener_);
    body_keep_ = has_body && !stream ? context_.handler().body_limit(listener_) : 0;
    std::uint64_t max_body = context_.limits().max_body_bytes;
    if (body_keep_ > 0) max_body = std::min(max_body, body_keep_);
    if ((parser_.flags & F_CONTENT_LENGTH) && parser_.content_length > max_body) {
        error_status_ = 413;
        return -1;
    }
    if (stream) {
        // The handler takes the request now and the body as it comes (Pending::read_body),
        // which also sends the 100 Continue: a request refused at once never gets one.
        body_streamed_ = true;
        continue_wanted_ = expect_continue && http11;
        dispatch();
        return stop_parsing_ || aborted_ ? HPE_PAUSED : 0;
    }
    if (expect_continue && has_body && http11) {
        queue_bytes("HTTP/1.1 100 Continue\r\n\r\n");
    }
    return 0;
}

int Session::on_body(const char* at, std::size_t length) {
    body_bytes_ += length;
    if (body_bytes_ > context_.limits().max_body_bytes ||
        (body_keep_ > 0 && body_bytes_ > body_keep_)) {
        error_status_ = 413;
        return -1;
    }
    if (body_streamed_) {
        if (body_sink() != nullptr && !body_paused_ && scratch_->body.empty()) {
            body_sink()->on_request_body(at, length);  // may end the Pending
        } else {
            scratch_->body.append(at, length);  // wants_read() bounds it
        }
        return stop_parsing_ || aborted_ ? HPE_PAUSED : 0;
    }
    if (body_keep_ > 0) scratch_->body.append(at, length);
    return 0;
}

int Session::on_message_complete() {
    if (body_streamed_) {
        body_complete_ = true;
        deliver_body();  // the end, unless bytes are still held
    } else {
        dispatch();
    }
    in_message_ = false;
    headers_done_ = false;
    phase_started_ms_ = context_.now_ms();
    if (stop_parsing_) return HPE_PAUSED;
    if (over_output_limit()) return HPE_PAUSED;
    // A deferred response: hold pipelined requests back until it is answered.
    if (suspended()) return HPE_PAUSED;
    return 0;
}

void Session::dispatch() {
    Scratch& s = *scratch_;
    Request request;
    request.method = method_of(static_cast<llhttp_method_t>(parser_.method));
    // llhttp's method names are static strings; the target is the first thing in the text.
    request.method_text = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    request.target = std::string_view(s.text.data(), url_length_);
    request.version_major = parser_.http_major;
    request.version_minor = parser_.http_minor;
    s.header_views.clear();
    for (const auto& h : s.headers) {
        s.header_views.push_back(
            {std::string_view(s.text.data() + h.name_offset, h.name_length),
             std::string_view(s.text.data() + h.value_offset, h.value_length)});
    }
    request.headers = s.header_views;
    request.keep_alive = llhttp_should_keep_alive(&parser_) != 0 && !close_requested_;
    // HTTP/1.0 has no Transfer-Encoding: its framing is suspect, so the connection closes
    // after the answer (RFC 9112 section 6.1), whatever Connection said.
    if (request.version_minor == 0 && (parser_.flags & F_TRANSFER_ENCODING) != 0) {
        request.keep_alive = false;
    }
    request.listener = listener_;
    request.body = s.body;
    request.body_streamed = body_streamed_;
    if (body_streamed_) {
        // At the head, llhttp's count is still the whole length (it counts down as it reads).
        request.body_length =
            (parser_.flags & F_CHUNKED) ? Request::kChunkedBody : parser_.content_length;
    }
    request.peer = peer_;

    Response& response = context_.response();
    response.clear();
    response.set_session(this);
    if (request.method == Method::connect) {
        // A static server is not a tunnel.
        response.set_status(405);
        response.add_header("Allow", "GET, HEAD");
        response.add_header("Content-Type", "text/html; charset=utf-8");
        response.set_body(error_page(405));
        response.close_connection();
    } else if (OverloadGate* gate = context_.overload(); gate != nullptr && !gate->admit()) {
        // Overloaded (a standing queue, core/overload.hpp): a canned answer that costs next to
        // nothing, so that the work already admitted finishes sooner.
        context_.count(&LoopMetrics::overload_shed_requests);
        answer_overloaded(response, gate->state().severe());
    } else {
        current_request_ = &request;
        context_.handler().handle(request, response);
        current_request_ = nullptr;
    }
    ++requests_;
    if (response.deferred()) {
        // Answered later (or already, if the handler finished it inside handle()): the
        // Pending queues what is sent, and ends the connection if it must.
        return;
    }
    if (response.closes_connection()) request.keep_alive = false;
    // Answered without reading its streamed body: the rest of it would be read as the next
    // request, so the connection ends after the answer.
    if (body_streamed_ && !body_complete_) request.keep_alive = false;
    queue_response(request, response);
    if (!request.keep_alive) stop_parsing_ = true;
}

void Session::build_head(const Request& request, Response& response, std::string& head,
                         Framing framing) {
    int status = response.status();
    head.append("HTTP/1.1 ");
    append_number(head, static_cast<std::uint64_t>(status));
    head.push_back(' ');
    head.append(reason_phrase(status));
    head.append("\r\nDate: ");
    head.append(context_.date());
    head.append("\r\nServer: c10k\r\n");
    head.append(response.header_lines());
    if (framing == Framing::none) {
        // A switch of protocols: no body, and the Connection header is the handler's.
        head.append("\r\n");
        return;
    }
    if (framing == Framing::stream) {
        // HTTP/1.0 has no chunks: its stream ends with the connection (keep_alive is false).
        if (request.version_minor >= 1) head.append("Transfer-Encoding: chunked\r\n");
    } else if (response.has_content_length()) {
        head.append("Content-Length: ");
        append_number(head, response.body_length());
        head.append("\r\n");
    }
    if (!request.keep_alive) {
        head.append("Connection: close\r\n");
    } else if (request.version_minor == 0) {
        head.append("Connection: keep-alive\r\n");
    }
    head.append("\r\n");
}

void Session::note_response(const Request& request, int status, std::uint64_t body_bytes) {
    if (LoopMetrics* metrics = context_.metrics()) {
        metrics->count_status(status);
        metrics->count_latency(context_.now_ms() - phase_started_ms_);
    }
    if (context_.access_log() != nullptr) {
        context_.access_log()->record(peer_, request, status, body_bytes, context_.now_s());
    }
}

void Session::queue_response(const Request& request, Response& response) {
    int status = response.status();
    std::string head = context_.take_buffer();
    head.reserve(256 + response.header_lines().size() +
                 (response.body_length() <= kCoalesceBodyBytes ? response.body_length() : 0));
    build_head(request, response, head, Framing::length);

    bool send_body = request.method != Method::head && response.has_content_length() &&
                     response.body_length() > 0;
    note_response(request, status, send_body ? response.body_length() : 0);
    if (!send_body) {
        queue_bytes(std::move(head));
        return;
    }
    switch (response.body_kind()) {
        case Response::BodyKind::text:
            // Small generated bodies travel in the same chunk as the head: one iovec fewer.
            head.append(response.text(), response.body_offset(), response.body_length());
            queue_bytes(std::move(head));
            break;
        case Response::BodyKind::blob: {
            if (response.body_length() <= kCoalesceBodyBytes) {
                // Copying a small cached body beside the head costs less than a second iovec:
                // the kernel then imports and copies one contiguous buffer.
                head.append(response.blob()->data, response.body_offset(), response.body_length());
                queue_bytes(std::move(head));
                break;
            }
            queue_bytes(std::move(head));
            OutputChunk chunk;
            chunk.blob = response.blob();
            chunk.offset = response.body_offset();
            chunk.length = response.body_length();
            queue_chunk(std::move(chunk));
            break;
        }
        case Response::BodyKind::file: {
            queue_bytes(std::move(head));
            OutputChunk chunk;
            chunk.file = response.file();
            chunk.offset = response.body_offset();
            chunk.length = response.body_length();
            queue_chunk(std::move(chunk));
            break;
        }
        case Response::BodyKind::none:
            // A length without a body to send would break framing: send nothing more and
            // close, rather than leave the client waiting for bytes that never come.
            queue_bytes(std::move(head));
            stop_parsing_ = true;
            break;
    }
}

void Session::queue_bytes(std::string bytes) {
    OutputChunk chunk;
    chunk.length = bytes.size();
    chunk.bytes = std::move(bytes);
    queue_chunk(std::move(chunk));
}

void Session::queue_chunk(OutputChunk chunk) {
    ensure_scratch();
    pending_bytes_ += chunk.length;
    if (!has_output()) phase_started_ms_ = context_.now_ms();
    scratch_->output.push_back(std::move(chunk));
}

std::size_t Session::gather(iovec* iov, std::size_t max) const {
    if (!scratch_) return 0;
    std::size_t count = 0;
    const auto& output = scratch_->output;
    for (std::size_t i = scratch_->output_front; i < output.size() && count < max; ++i) {
        const OutputChunk& chunk = output[i];
        if (chunk.is_file()) break;
        iov[count].iov_base = const_cast<char*>(chunk.data());
        iov[count].iov_len = chunk.length;
        ++count;
    }
    return count;
}

bool Session::front_file(FileRange& range) const {
    if (!has_output()) return false;
    const OutputChunk& chunk = scratch_->output[scratch_->output_front];
    if (!chunk.is_file()) return false;
    range.fd = chunk.file->fd.get();
    range.offset = chunk.offset;
    range.length = chunk.length;
    return true;
}

void Session::consume(std::size_t bytes) {
    if (!scratch_) return;
    context_.count(&LoopMetrics::bytes_sent, bytes);
    if (bytes > 0) phase_started_ms_ = context_.now_ms();
    auto& output = scratch_->output;
    pending_bytes_ -= std::min<std::uint64_t>(bytes, pending_bytes_);
    while (bytes > 0 && scratch_->output_front < output.size()) {
        OutputChunk& chunk = output[scratch_->output_front];
        std::size_t used = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, chunk.length));
        chunk.offset += used;
        chunk.length -= used;
        bytes -= used;
        if (chunk.length == 0) {
            context_.give_buffer(std::move(chunk.bytes));
            chunk = OutputChunk{};  // drop references to blobs and files now
            ++scratch_->output_front;
        }
    }
    if (scratch_->output_front == output.size()) {
        output.clear();
        scratch_->output_front = 0;
        pending_bytes_ = 0;
    }
    // The client caught up: parse the pipelined requests that were held back (not while a
    // deferred response still holds them, and never after the connection decided to close).
    if (paused_ && !suspended() && !over_output_limit()) {
        paused_ = false;
        std::string rest = std::move(scratch_->pending_input);
        scratch_->pending_input.clear();
        if (!stop_parsing_) execute(rest.data(), rest.size());
        if (input_closed_ && !paused_) in_message_ = false;
    }
    if (close_requested_ && !in_message_ && !has_output() && !paused_) stop_parsing_ = true;
    maybe_release_scratch();
    if (pending_bytes_ <= drained_mark_ && owner_ != nullptr &&
        (suspend_ == Suspend::streaming || suspend_ == Suspend::upgraded)) {
        drained_mark_ = UINT64_MAX;  // one notice per request for it
        owner_->on_pending_drained();
    }
}

void Session::resume_held_requests() {
    // Pipelined requests held back while an answer was deferred resume when its output is
    // taken (consume). An answer that ended with nothing left to send (a sized stream whose
    // last byte went out before the handler knew it was the last: a CGI program's exit comes
    // after its output) gets no such write; the engine's ready pass, outside any handler, is
    // where they resume instead.
    if (paused_ && !suspended() && !has_output() && scratch_ && !scratch_->pending_input.empty()) {
        consume(0);
    }
}

Phase Session::phase() const {
    if (has_output()) return Phase::writing;
    // A streamed body being read: the client owes the next bytes (once the hold is full, the
    // handler is what it waits for, and the time is the handler's).
    if (body_streamed_ && !body_complete_ && suspended() && !body_hold_full()) return Phase::body;
    if (suspended()) return Phase::waiting;
    if (in_message_) return headers_done_ ? Phase::body : Phase::header;
    return Phase::idle;
}

void Session::count_timeout() {
    TimeoutKind kind = TimeoutKind::idle;
    switch (phase()) {
        case Phase::idle:
            kind = TimeoutKind::idle;
            break;
        case Phase::header:
            kind = TimeoutKind::header;
            break;
        case Phase::body:
            kind = TimeoutKind::body;
            break;
        case Phase::writing:
            kind = TimeoutKind::send;
            break;
        case Phase::waiting:
            return;  // has no deadline
    }
    if (LoopMetrics* metrics = context_.metrics())
        metrics->timeouts[static_cast<std::size_t>(kind)].add();
}

std::int64_t Session::deadline_ms() const {
    const Timeouts& t = context_.timeouts();
    switch (phase()) {
        case Phase::idle:
            return phase_started_ms_ + t.keepalive_ms;
        case Phase::header:
            return phase_started_ms_ + t.header_ms;
        case Phase::body:
            return phase_started_ms_ + t.body_ms;
        case Phase::writing:
            return phase_started_ms_ + t.send_ms;
        case Phase::waiting:
            return kNoDeadline;
    }
    return phase_started_ms_ + t.keepalive_ms;
}

// ---- deferred responses ----------------------------------------------------------------------

Pending Response::defer(PendingOwner& owner) {
    deferred_ = true;
    session_->pending_begin(owner);
    return Pending(session_);
}

bool Session::holds_little_input() const {
    // While a response is deferred the client should send nothing; what it sends anyway (the
    // next pipelined request) is kept up to one request head, then reading stops.
    return suspended() &&
           (!scratch_ || scratch_->pending_input.size() < context_.limits().max_header_bytes);
}

void Session::pending_begin(PendingOwner& owner) {
    const Request& request = *current_request_;
    deferred_ = std::make_unique<DeferredRequest>();
    deferred_->method = request.method;
    deferred_->keep_alive = request.keep_alive;
    deferred_->version_minor = request.version_minor;
    // An Upgrade request answered later: unless it switches, what follows it on the connection
    // may be the other protocol's bytes, never to be read as HTTP.
    if (parser_.upgrade != 0) deferred_->keep_alive = false;
    if (context_.access_log() != nullptr) {
        deferred_->method_text = request.method_text;
        deferred_->target = request.target;
        deferred_->logged_values[0] = request.header("Referer");
        deferred_->logged_values[1] = request.header("User-Agent");
    }
    owner_ = &owner;
    suspend_ = Suspend::waiting;
    context_.count(&LoopMetrics::deferred_started);
}

void Session::close_if_body_unread() {
    // A whole answer that comes before its streamed body was all read says Connection: close:
    // the rest of the body would otherwise be read as the next request. A streamed answer
    // does not say so at its head: the body usually ends while it streams (a CGI program
    // writes its head, then reads its input), and when it does not, the connection closes
    // after the answer all the same (end_pending).
    if (body_streamed_ && !body_complete_) deferred_->keep_alive = false;
}

Request Session::deferred_request() const {
    Request request;
    request.method = deferred_->method;
    request.keep_alive = deferred_->keep_alive && !close_requested_;
    request.version_major = 1;
    request.version_minor = deferred_->version_minor;
    request.method_text = deferred_->method_text;
    request.target = deferred_->target;
    request.listener = listener_;
    // Views into deferred_, which outlives every use of the returned request.
    deferred_->logged_headers[0] = {"Referer", deferred_->logged_values[0]};
    deferred_->logged_headers[1] = {"User-Agent", deferred_->logged_values[1]};
    request.headers = deferred_->logged_headers;
    return request;
}

void Session::end_pending(bool tell_owner) {
    PendingOwner* owner = std::exchange(owner_, nullptr);
    context_.count(&LoopMetrics::deferred_ended);
    stream_sized_ = false;
    drained_mark_ = UINT64_MAX;
    bool keep_alive = deferred_ && deferred_->keep_alive && !close_requested_;
    if (body_streamed_) {
        // Whatever is left of the body has nobody to take it; unread, it would be read as
        // the next request, so the connection ends after the answer.
        if (!body_complete_) keep_alive = false;
        body_paused_ = false;
        if (scratch_) scratch_->body.clear();
    }
    suspend_ = Suspend::none;
    deferred_.reset();
    if (!keep_alive) {
        stop_parsing_ = true;
        paused_ = false;  // nothing more will be parsed
    } else if (!scratch_ || scratch_->pending_input.empty()) {
        // Nothing pipelined to go back to; otherwise consume() resumes parsing once the answer
        // is on its way (never from here: that would run a handler inside another's call).
        if (!over_output_limit()) paused_ = false;
    }
    if (tell_owner && owner != nullptr) owner->on_pending_closed();
    maybe_release_scratch();
}

void Session::notify_output() {
    if (!ready_marked_) context_.mark_ready(*this);
}

void Session::pending_redispatch(Request& request) {
    if (suspend_ != Suspend::waiting) return;
    request.keep_alive = deferred_->keep_alive && !close_requested_;
    request.version_major = 1;
    request.version_minor = deferred_->version_minor;
    request.listener = listener_;
    request.body_streamed = false;  // the redirected request is a GET: the old body is not its
    deferred_->method = request.method;
    deferred_->body_sink = nullptr;  // the old owner goes away; what is held stays unread
    owner_ = nullptr;
    // A Response of its own: the loop's shared one may be in use by the request being
    // dispatched when this runs.
    Response response;
    response.set_session(this);
    current_request_ = &request;
    context_.handler().handle(request, response);
    current_request_ = nullptr;
    if (response.deferred()) return;  // pending_begin gave it a new owner
    pending_respond(response);
}

void Session::pending_respond(Response& response) {
    if (suspend_ != Suspend::waiting) return;
    close_if_body_unread();
    Request request = deferred_request();
    if (response.closes_connection()) deferred_->keep_alive = false;
    request.keep_alive = deferred_->keep_alive && !close_requested_;
    queue_response(request, response);
    end_pending(false);
    notify_output();
}

void Session::pending_start_stream(Response& head_response) {
    if (suspend_ != Suspend::waiting) return;
    if (deferred_->version_minor == 0 || head_response.closes_connection()) {
        deferred_->keep_alive = false;  // the stream ends with the connection
    }
    Request request = deferred_request();
    std::string head = context_.take_buffer();
    build_head(request, head_response, head, Framing::stream);
    note_response(request, head_response.status(), 0);
    queue_bytes(std::move(head));
    stream_chunked_ = request.version_minor >= 1;
    suspend_ = Suspend::streaming;
    if (request.method == Method::head) {
        // The head is the whole answer; the chunked body is empty by definition.
        end_pending(false);
    }
    notify_output();
}

bool Session::pending_start_sized_stream(Response& head_response, std::uint64_t length) {
    if (suspend_ != Suspend::waiting) return false;
    if (head_response.closes_connection()) deferred_->keep_alive = false;
    head_response.set_body_length_only(length);
    Request request = deferred_request();
    std::string head = context_.take_buffer();
    build_head(request, head_response, head, Framing::length);
    note_response(request, head_response.status(), length);
    queue_bytes(std::move(head));
    stream_chunked_ = false;
    stream_sized_ = true;
    suspend_ = Suspend::streaming;
    // A HEAD request, or a body that is empty or not allowed (204, 304): the head is all.
    bool open = request.method != Method::head && length > 0 && head_response.has_content_length();
    if (!open) end_pending(false);
    notify_output();
    return open;
}

bool Session::pending_notify_drained(std::uint64_t mark) {
    if (suspend_ != Suspend::streaming && suspend_ != Suspend::upgraded) return false;
    if (pending_bytes_ <= mark) return false;
    drained_mark_ = mark;
    return true;
}

void Session::pending_write(std::string_view bytes) {
    if ((suspend_ != Suspend::streaming && suspend_ != Suspend::upgraded) || bytes.empty()) return;
    // A pooled buffer: a proxy writes every response body through here.
    std::string framed = context_.take_buffer();
    if (stream_chunked_) {
        char size[20];
        int n = std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
        framed.reserve(static_cast<std::size_t>(n) + bytes.size() + 2);
        framed.append(size, static_cast<std::size_t>(n));
        framed.append(bytes);
        framed.append("\r\n");
    } else {
        framed.assign(bytes);
    }
    queue_bytes(std::move(framed));
    notify_output();
}

void Session::pending_write_framed(core::RefPtr<Blob> blob, std::uint64_t offset,
                                   std::uint64_t length) {
    if ((suspend_ != Suspend::streaming && suspend_ != Suspend::upgraded) || length == 0) return;
    OutputChunk chunk;
    chunk.blob = std::move(blob);
    chunk.offset = offset;
    chunk.length = length;
    queue_chunk(std::move(chunk));
    notify_output();
}

void Session::pending_finish() {
    if (suspend_ == Suspend::waiting) {
        // Finished without an answer: nothing valid can be sent, so close.
        pending_close();
        return;
    }
    if (suspend_ != Suspend::streaming && suspend_ != Suspend::upgraded) return;
    if (stream_chunked_) {
        queue_bytes("0\r\n\r\n");
    } else if (stream_sized_) {
        // The announced length was sent: the connection may serve its next request.
    } else {
        deferred_->keep_alive = false;  // a close-delimited body ends with the close
    }
    end_pending(false);
    notify_output();
}

void Session::pending_close() {
    if (!suspended()) return;
    end_pending(false);
    aborted_ = true;
    notify_output();
}

void Session::pending_upgrade(Response& head_response, UpgradedOwner& owner) {
    if (suspend_ != Suspend::waiting) return;
    owner_ = &owner;
    deferred_->keep_alive = false;  // the connection never speaks HTTP again
    Request request = deferred_request();
    std::string head = context_.take_buffer();
    build_head(request, head_response, head, Framing::none);
    note_response(request, head_response.status(), 0);
    queue_bytes(std::move(head));
    stream_chunked_ = false;
    suspend_ = Suspend::upgraded;
    // Inside handle() the bytes after the request are still in the parser's buffer: execute()
    // hands them over when it returns. Later, they wait in pending_input.
    if (current_request_ == nullptr) deliver_upgraded_input();
    notify_output();
}

void Session::pending_read_body(BodySink& sink) {
    if (!suspended() || !body_streamed_ || body_sink() != nullptr) return;
    deferred_->body_sink = &sink;
    if (continue_wanted_) {
        continue_wanted_ = false;
        // Not when the client went ahead and sent (part of) the body anyway.
        if (!body_complete_ && body_held() == 0) {
            queue_bytes("HTTP/1.1 100 Continue\r\n\r\n");
            notify_output();
        }
    }
    deliver_body();
}

void Session::pending_pause_body() {
    if (body_sink() != nullptr) body_paused_ = true;
}

void Session::pending_resume_body() {
    if (!body_paused_) return;
    body_paused_ = false;
    bool was_full = body_hold_full();
    deliver_body();
    // The engine stopped reading at a full hold: it reads again when it visits.
    if (was_full && !body_hold_full()) notify_output();
}

void Session::deliver_body() {
    if (body_delivering_) return;  // resume_body from inside the sink: the loop below goes on
    body_delivering_ = true;
    while (body_sink() != nullptr && !body_paused_) {
        if (body_held() > 0) {
            std::string held;
            held.swap(scratch_->body);
            body_sink()->on_request_body(held.data(), held.size());
            continue;
        }
        if (body_complete_) std::exchange(deferred_->body_sink, nullptr)->on_request_body_end();
        break;
    }
    body_delivering_ = false;
}

void Session::deliver_upgraded_input() {
    paused_ = false;
    if (suspend_ != Suspend::upgraded || !scratch_ || scratch_->pending_input.empty()) return;
    std::string rest = std::move(scratch_->pending_input);
    scratch_->pending_input.clear();
    static_cast<UpgradedOwner*>(owner_)->on_upgraded_input(rest.data(), rest.size());
}

void Session::abandon() {
    if (suspended()) end_pending(true);
    if (ready_marked_) context_.forget_ready(*this);
}

void LoopContext::mark_ready(Session& session) {
    session.ready_marked_ = true;
    ready_.push_back(&session);
}

bool LoopContext::take_ready(Session& session) {
    if (!session.ready_marked_) return false;
    session.ready_marked_ = false;
    session.resume_held_requests();
    return true;
}

void LoopContext::forget_ready(Session& session) {
    // Rare (a connection closed while marked): a linear scan of this batch's list is fine.
    for (auto* list : {&ready_, &ready_swap_}) {
        for (Session*& entry : *list) {
            if (entry == &session) entry = nullptr;
        }
    }
    session.ready_marked_ = false;
}

}  // namespace c10k::http
