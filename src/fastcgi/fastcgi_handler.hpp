#pragma once
// FastCGI locations as an http::Handler: requests under a location's prefix name a script
// beneath the document root (resolved as CGI resolves programs, cgi/script.hpp, without the
// executable bit: the application runs it), and go to a FastCGI application (php-fpm) with
// the CGI meta-variables as PARAMS and the request body as STDIN; its STDOUT is CGI output,
// parsed for a head (cgi/output_head.hpp) and streamed to the client. Everything else goes to
// the handler it wraps. Each request is a fastcgi::Exchange on a connection from the loop's
// pool for the location's address; the connection is watched through the loop's
// DescriptorWatcher, so every engine serves FastCGI. A chunked body is held whole first
// (body_buffer.hpp), so that the application is told its CONTENT_LENGTH.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/unique_fd.hpp"
#include "fastcgi/address.hpp"
#include "fastcgi/pool.hpp"
#include "http/context.hpp"
#include "http/handler.hpp"

namespace c10k::fastcgi {

struct Location {
    std::string prefix;  ///< "/app/": ends in '/'
    Address address;
};

struct Options {
    std::vector<Location> locations;
    /// Only files whose names end so are scripts ({".php"}); other files under the prefix go
    /// to the wrapped handler (static files), as nginx's `location ~ \.php$` arranges. Empty:
    /// every file is a script.
    std::vector<std::string> extensions;
    /// The document root scripts are found beneath (SCRIPT_FILENAME, DOCUMENT_ROOT).
    std::string root;
    /// Connect plus the whole request: 504 when no head came yet, a cut response after.
    std::int64_t timeout_ms = 60'000;
    /// Connections per loop and address, busy and idle together.
    std::size_t max_connections = 64;
    /// How long a request waits for a connection when all are busy; then 503.
    std::int64_t queue_wait_ms = 1'000;
    /// Requests waiting at once per loop and address; beyond, 503 at once.
    std::size_t max_queue = 1024;
    /// The largest head the application may write before its body; beyond, 502.
    std::size_t max_head_bytes = 16 * 1024;
    /// Bytes held each way per request: body the application has not read, output the client
    /// has not taken (then the connection is not read, and the application waits).
    std::size_t buffer_bytes = 256 * 1024;
    /// Where a chunked request body larger than BodyBuffer::kMemoryBytes is held, in an
    /// unnamed file, until it is whole (body_buffer.hpp). Empty: $TMPDIR, else /tmp.
    std::string temp_directory;
    std::string software = "c10k";
};

class Handler final : public http::Handler {
public:
    Handler(Options options, std::unique_ptr<http::Handler> fallback);
    ~Handler() override;

    void handle(const http::Request& request, http::Response& response) override;
    void on_loop_start(http::LoopContext& context) override;
    void on_loop_stop(http::LoopContext& context) override;
    bool streams_body(std::uint8_t listener) const override { return true; }
    std::uint64_t body_limit(std::uint8_t listener) const override;
    bool wants_peer() const override { return true; }
    /// Requests outside every location are the fallback's to say; the program's own stay
    /// on the loop (they wait on its descriptors).
    bool answers_off_loop(const http::Request& request) const override;

    const Options& options() const { return options_; }
    http::LoopContext& context() { return *context_; }
    std::vector<char>& read_buffer() { return read_buffer_; }
    /// For a held body on its way out: read from its file and framed as STDIN at once, so it
    /// is never in use by two exchanges (unlike read_buffer, which an exchange parses from).
    std::vector<char>& stage_buffer() { return stage_buffer_; }

private:
    bool may_name_script(std::string_view path) const;
    bool is_script(std::string_view name) const;

    Options options_;
    std::unique_ptr<http::Handler> fallback_;
    core::unique_fd root_;                      ///< O_PATH: scripts are resolved beneath it
    std::vector<std::unique_ptr<Pool>> pools_;  ///< one per distinct address
    std::vector<std::size_t> pool_of_;          ///< per location: its pool's index
    http::LoopContext* context_ = nullptr;
    std::vector<char> read_buffer_;
    std::vector<char> stage_buffer_;
};

}  // namespace c10k::fastcgi
