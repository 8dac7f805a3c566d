#include "engine/loop_runner.hpp"

#include <fcntl.h>

#include "core/reopen.hpp"

namespace c10k::engine {

AccessLogFile::AccessLogFile(core::unique_fd fd, const std::string& path) : fd_(std::move(fd)) {
    if (fd_) core::reopen_on_signal(fd_.get(), path);
}

AccessLogFile::~AccessLogFile() {
    if (fd_) core::forget_reopen(fd_.get());
}

AccessLogFile open_access_log(const ServerConfig& config) {
    if (config.access_log_path.empty()) return AccessLogFile{};
    core::unique_fd fd(
        ::open(config.access_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) {
        throw std::runtime_error(fmt::format("cannot open access log '{}': {}",
                                             config.access_log_path, std::strerror(errno)));
    }
    return AccessLogFile(std::move(fd), config.access_log_path);
}

int run_readiness_loops(const ServerConfig& config, const HandlerFactory& handlers,
                        ListenerSet& listeners, StopSource& stop, const PollerFactory& pollers) {
    return run_loops<ReadinessLoop>(
        config, handlers, listeners, stop,
        [&pollers](std::vector<core::unique_fd> fds, std::unique_ptr<http::Handler> handler,
                   LoopShared shared) {
            return std::make_unique<ReadinessLoop>(pollers(), std::move(fds), std::move(handler),
                                                   shared);
        });
}

}  // namespace c10k::engine
