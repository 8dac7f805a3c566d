#pragma once
// The application side of the sans-I/O HTTP core: given a request, fill in a response.

#include "http/request.hpp"
#include "http/response.hpp"

namespace c10k::http {

/// One Handler per event loop (loops share nothing), so handlers may keep caches without locks.
/// handle() runs on the loop's thread and must not block.
class Handler {
public:
    virtual ~Handler() = default;
    virtual void handle(const Request& request, Response& response) = 0;
};

}  // namespace c10k::http
