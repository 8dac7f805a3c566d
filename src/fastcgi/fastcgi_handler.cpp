#include "fastcgi/fastcgi_handler.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "cgi/answers.hpp"
#include "cgi/environment.hpp"
#include "cgi/script.hpp"
#include "fastcgi/body_buffer.hpp"
#include "fastcgi/exchange.hpp"
#include "fastcgi/protocol.hpp"
#include "http/response.hpp"
#include "http/session.hpp"
#include "serve/path.hpp"

namespace c10k::fastcgi {

namespace {

void answer(http::Response& response, int status, std::string_view why) {
    cgi::answer_error(response, "fastcgi", status, why);
}

}  // namespace

bool Handler::is_script(std::string_view name) const {
    if (options_.extensions.empty()) return true;
    for (const std::string& extension : options_.extensions) {
        if (name.ends_with(extension)) return true;
    }
    return false;
}

bool Handler::may_name_script(std::string_view path) const {
    // Before any system call: a path in which no segment ends in a script's extension (a
    // stylesheet under a "/" prefix) goes to the files at once.
    if (options_.extensions.empty()) return true;
    for (const std::string& extension : options_.extensions) {
        for (std::size_t at = path.find(extension); at != std::string_view::npos;
             at = path.find(extension, at + 1)) {
            std::size_t end = at + extension.size();
            if (end == path.size() || path[end] == '/') return true;
        }
    }
    return false;
}

Handler::Handler(Options options, std::unique_ptr<http::Handler> fallback)
    : options_(std::move(options)),
      fallback_(std::move(fallback)),
      read_buffer_(64 * 1024),
      stage_buffer_(kMaxContent) {
    if (options_.temp_directory.empty()) options_.temp_directory = default_temp_directory();
    root_.reset(::open(options_.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_) {
        throw std::runtime_error(
            fmt::format("--fastcgi: the root {}: {}", options_.root, std::strerror(errno)));
    }
    for (const Location& location : options_.locations) {
        std::size_t index = 0;
        while (index < pools_.size() && pools_[index]->address().text != location.address.text) {
            ++index;
        }
        if (index == pools_.size()) {
            pools_.push_back(std::make_unique<Pool>(location.address, options_.max_connections));
        }
        pool_of_.push_back(index);
    }
}

Handler::~Handler() = default;

bool Handler::answers_off_loop(const http::Request& request) const {
    std::optional<std::string> path = serve::normalize_path(request.path());
    if (!path || !fallback_) return false;
    for (const auto& location : options_.locations) {
        if (path->starts_with(location.prefix)) return false;
    }
    return fallback_->answers_off_loop(request);
}

std::uint64_t Handler::body_limit(std::uint8_t listener) const {
    return fallback_ ? fallback_->body_limit(listener) : 0;
}

void Handler::on_loop_start(http::LoopContext& context) {
    context_ = &context;
    for (auto& pool : pools_) pool->attach(&context);
    if (fallback_) fallback_->on_loop_start(context);
}

void Handler::on_loop_stop(http::LoopContext& context) {
    // Every connection is gone, and with it every exchange: only idle connections are left.
    for (auto& pool : pools_) {
        pool->close_idle();
        pool->attach(nullptr);
    }
    if (fallback_) fallback_->on_loop_stop(context);
    context_ = nullptr;
}

void Handler::handle(const http::Request& request, http::Response& response) {
    std::optional<std::string> path = serve::normalize_path(request.path());
    std::optional<std::size_t> index;
    if (path) index = cgi::match_location(*path, options_.locations);
    if (!index) {
        cgi::pass_on(fallback_.get(), request, response, "fastcgi");
        return;
    }
    if (context_ == nullptr || context_->descriptors() == nullptr) {
        answer(response, 500, "this engine cannot watch a FastCGI connection");
        return;
    }
    // The script must exist beneath the root (as nginx's `try_files $uri =404`): a request
    // for anything else never reaches the application. The same walk as CGI's, so the same
    // containment: no "..", no dot files, no symbolic link out of the root. What is not a
    // script (a directory, a missing file, a stylesheet) is the files' handler's to answer.
    cgi::Script script;
    if (!may_name_script(*path) ||
        cgi::resolve_script(root_.get(), "/", *path, script, cgi::ScriptUse::name) != 0 ||
        !is_script(script.relative)) {
        cgi::pass_on(fallback_.get(), request, response, "fastcgi");
        return;
    }
    Pool& pool = *pools_[pool_of_[*index]];
    if (!pool.may_open() && pool.waiting() >= options_.max_queue) {
        answer(response, 503, "every FastCGI connection is busy and the queue is full");
        return;
    }
    std::string filename = options_.root + "/" + script.relative;
    cgi::EnvironmentInfo info;
    info.script_name = script.script_name;
    info.path_info = script.path_info;
    info.script_filename = filename;
    info.document_root = options_.root;
    info.server_port = cgi::port_of(request.header("Host"));
    info.software = options_.software;
    std::vector<std::string> environment = cgi::cgi_environment(request, info);
    // php-cgi (force-cgi-redirect) refuses to run without it; php-fpm ignores it.
    environment.emplace_back("REDIRECT_STATUS=200");
    auto* exchange =
        new Exchange(*this, pool, script.script_name, request.method, std::move(environment));
    exchange->begin(response.defer(*exchange), request.body_streamed,
                    request.body_length == http::Request::kChunkedBody);
}

}  // namespace c10k::fastcgi
