#pragma once
// Takes everything a Session has queued, as an engine would write it (files are not used in
// these tests).

#include <sys/uio.h>

#include <string>

#include "http/session.hpp"

namespace c10k::http {

inline std::string drain(Session& session) {
    std::string out;
    while (session.has_output()) {
        iovec iov[8];
        std::size_t n = session.gather(iov, 8);
        if (n == 0) break;  // a file range
        std::size_t total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            out.append(static_cast<char*>(iov[i].iov_base), iov[i].iov_len);
            total += iov[i].iov_len;
        }
        session.consume(total);
    }
    return out;
}

}  // namespace c10k::http
